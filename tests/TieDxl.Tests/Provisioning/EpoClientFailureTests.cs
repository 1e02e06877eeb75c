using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TieDxl.Dxl.Provisioning;
using TieDxl.Fabric;
using TieDxl.Fabric.Pki;
using TieDxl.Fabric.Provisioning;
using TieDxl.Tests.Config;
using TieDxl.Tests.Infrastructure;
using static TieDxl.Tests.Provisioning.ProvisioningTestKit;

namespace TieDxl.Tests.Provisioning;

/// <summary>
/// Every way an ePO call fails, at the HTTP level against an endpoint that answers badly on purpose: each is its
/// own exception type, keeps ePO's text, leaves the folder empty and never shows the password or a key.
/// </summary>
public sealed class EpoClientFailureTests : IDisposable
{
    private const string User = "epo-user";
    private const string Password = "S3cret-Pa55word!";

    private readonly DxlTestPki _pki = DxlTestPki.Create();
    private readonly DxlTestCertificate _serverCertificate;
    private readonly TempFolder _folder = new();
    private readonly TempFolder _trust = new();
    private readonly string _caFile;
    private readonly List<string> _log = new();

    public EpoClientFailureTests()
    {
        _serverCertificate = _pki.IssueBroker("fake-epo");
        _caFile = _trust.Write("epo-ca.crt", _pki.Ca.CertificatePem());
    }

    public void Dispose()
    {
        _pki.Dispose();
        _folder.Dispose();
        _trust.Dispose();
    }

    /// <summary>Provisions into the empty folder against an endpoint answering with <paramref name="answer"/>.</summary>
    private async Task<T> ProvisionFails<T>(Func<LoopbackHttpRequest, LoopbackHttpResponse> answer, string? caFile = "", bool skipCheck = false) where T : Exception
    {
        await using var server = new LoopbackHttpsServer(_serverCertificate.Certificate, answer);
        return await ProvisionFailsAt<T>($"127.0.0.1:{server.Port}", caFile == "" ? _caFile : caFile, skipCheck);
    }

    private async Task<T> ProvisionFailsAt<T>(string address, string? caFile, bool skipCheck = false) where T : Exception
    {
        using var epo = ClientFor(address, User, Password, caFile, _log, skipCheck);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "failing" });
        var e = await Assert.ThrowsAsync<T>(() => DxlProvisioner.ProvisionAsync(epo, request, _folder.Path));
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
        AssertNoSecret(Password, User, Messages(e).Concat(_log));
        Assert.DoesNotContain("CERTIFICATE REQUEST", string.Join("\n", Messages(e)));
        return e;
    }

    [Fact]
    public async Task WrongCredentialsAre401AndNameTheUserButNotThePassword()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var epo = ClientFor(fabric, _log, password: Password);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "x" });

        var e = await Assert.ThrowsAsync<EpoAuthenticationException>(() => DxlProvisioner.ProvisionAsync(epo, request, _folder.Path));

        Assert.Contains("HTTP 401", e.Message);
        Assert.Contains($"user '{fabric.Provisioning!.UserName}'", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
        AssertNoSecret(Password, fabric.Provisioning.UserName, Messages(e).Concat(_log));
        Assert.Contains(_log, l => l.Contains("HTTP 401"));
    }

    [Fact]
    public async Task AUserWithoutThePermissionGetsItsOwnErrorWithEposText()
    {
        var e = await ProvisionFails<EpoPermissionException>(_ => Ok("Error 0: User epo-user does not have permission to run this command.\r\n"));

        Assert.Contains("DXL Client Management", e.Message);
        Assert.Contains("Error 0: User epo-user does not have permission to run this command.", e.Message);
    }

    [Fact]
    public async Task Http403IsAPermissionError()
    {
        await ProvisionFails<EpoPermissionException>(_ => new LoopbackHttpResponse(403, "Forbidden", "Forbidden"));
    }

    [Fact]
    public async Task EposOwnErrorTextIsSurfacedWithItsNumber()
    {
        var e = await ProvisionFails<EpoCommandException>(_ => Ok("Error 0: For input string: \"abc\"\r\n"));

        Assert.Equal(0, e.Code);
        Assert.Equal("For input string: \"abc\"", e.EpoText);
        Assert.Contains("ePO reported Error 0: For input string: \"abc\"", e.Message);
        Assert.Contains(EpoCommands.Provision, e.Message);
    }

    [Theory]
    [InlineData(200, "<html><head><title>Welcome</title></head><body>It works</body></html>", "an HTML page")]
    [InlineData(404, "<html><body>Not Found</body></html>", "HTTP 404")]
    [InlineData(200, "", "an empty body")]
    [InlineData(200, "{\"status\": \"ok\"}", "instead of 'OK:' or 'Error n:'")]
    public async Task AServerThatIsNotEpoIsNamedAsSuch(int status, string body, string expected)
    {
        var e = await ProvisionFails<EpoNotEpoException>(_ => new LoopbackHttpResponse(status, status == 200 ? "OK" : "Not Found", body, "text/html"));

        Assert.Contains(expected, e.Message);
        Assert.Contains("8443", e.Message);
    }

    [Fact]
    public async Task ACertificateFromAnotherCaIsATlsFailureNamingTheCaFile()
    {
        using var stranger = DxlTestPki.Create(caName: "Stranger CA");
        var strangerCertificate = stranger.IssueBroker("stranger-epo");
        await using var server = new LoopbackHttpsServer(strangerCertificate.Certificate, _ => Ok("OK:\r\n\"never\"\r\n"));

        var e = await ProvisionFailsAt<EpoTlsException>($"127.0.0.1:{server.Port}", _caFile);

        Assert.Contains("is not signed by a CA in " + _caFile, e.Message);
        Assert.Contains("Stranger CA", e.Message);
    }

    [Fact]
    public async Task WithoutACaFileTheSystemTrustDecidesAndTheMessageSaysWhatToDo()
    {
        var e = await ProvisionFails<EpoTlsException>(_ => Ok("OK:\r\n\"never\"\r\n"), caFile: null);

        Assert.Contains("is not trusted by this system", e.Message);
        Assert.Contains("CA file", e.Message);
    }

    [Fact]
    public async Task AHostNameTheCertificateDoesNotNameIsRefused()
    {
        var other = _pki.IssueBroker("elsewhere", dnsNames: new[] { "elsewhere.example.test" }, ipAddresses: Array.Empty<IPAddress>());
        await using var server = new LoopbackHttpsServer(other.Certificate, _ => Ok("OK:\r\n\"never\"\r\n"));

        var e = await ProvisionFailsAt<EpoTlsException>($"127.0.0.1:{server.Port}", _caFile);

        Assert.Contains("does not name the host 127.0.0.1", e.Message);
    }

    [Fact]
    public async Task SkippingTheCheckAcceptsAnUntrustedCertificate()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var epo = ClientFor(fabric.Provisioning!.Server, fabric.Provisioning.UserName, fabric.Provisioning.Password, null, skipCheck: true);

        var bundle = await epo.GetCaBundleAsync();

        Assert.Equal(fabric.Provisioning.CaBundlePem, bundle);
    }

    [Fact]
    public async Task APlainHttpPortIsATlsFailure()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            using var c = await listener.AcceptTcpClientAsync();
            await c.GetStream().WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
            await Task.Delay(500);
        });

        var e = await ProvisionFailsAt<EpoTlsException>($"127.0.0.1:{port}", _caFile);

        Assert.Contains("is this an HTTPS port?", e.Message);
    }

    [Fact]
    public async Task AClosedPortIsUnreachable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var e = await ProvisionFailsAt<EpoUnreachableException>($"127.0.0.1:{port}", _caFile);

        Assert.Contains($"nothing accepts connections on port {port}", e.Message);
    }

    [Theory]
    [InlineData("OK:\r\nnot json\r\n", "is not JSON")]
    [InlineData("OK:\r\n42\r\n", "expected a string")]
    [InlineData("OK:\r\n\"only,two\"\r\n", "has 2 comma-separated part(s)")]
    [InlineData("OK:\r\n\"-----BEGIN CERTIFICATE-----\\r\\nAAAA\\r\\n-----END CERTIFICATE-----\\r\\n,x,y\"\r\n", "the CA bundle")]
    public async Task AnOkAnswerThatDoesNotParseIsAnAnswerError(string body, string expected)
    {
        var e = await ProvisionFails<EpoAnswerException>(_ => Ok(body));

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task AnAnswerWithAPrivateKeyBlockIsRefusedWithoutShowingIt()
    {
        var key = _pki.Client.PrivateKeyPem();
        var cert = _pki.Client.CertificatePem();
        var body = "OK:\r\n" + JsonSerializer.Serialize($"{cert}{key},{cert},{{b}}={{b}};8883;h") + "\r\n";

        var e = await ProvisionFails<EpoAnswerException>(_ => Ok(body));

        Assert.Contains("holds a 'PRIVATE KEY' block", e.Message);
    }

    [Fact]
    public async Task ABrokerLineWhoseKeyDiffersFromItsIdIsAnAnswerError()
    {
        var cert = _pki.Client.CertificatePem();
        var body = "OK:\r\n" + JsonSerializer.Serialize($"{cert},{cert},{{a}}={{b}};8883;host") + "\r\n";

        var e = await ProvisionFails<EpoAnswerException>(_ => Ok(body));

        Assert.Contains("differs from the broker id", e.Message);
    }

    [Fact]
    public async Task TheRequestHasEposExactFormAndBasicAuthentication()
    {
        LoopbackHttpRequest? seen = null;
        var cert = _pki.Client.CertificatePem();
        await using var server = new LoopbackHttpsServer(_serverCertificate.Certificate, r =>
        {
            seen = r;
            return Ok("OK:\r\n" + JsonSerializer.Serialize($"{cert},{cert},{{b}}={{b}};8883;h") + "\r\n");
        });
        using var epo = ClientFor($"127.0.0.1:{server.Port}", User, Password, _caFile);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "exact" });

        await epo.ProvisionAsync(request.CsrPem);

        Assert.Equal("GET", seen!.Method);
        Assert.Equal("/remote/" + EpoCommands.Provision, seen.Path);
        Assert.Equal("json", seen.Query[":output"]);
        Assert.Equal(request.CsrPem, seen.Query["csrString"]);
        Assert.Equal("Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(User + ":" + Password)), seen.Headers["Authorization"]);
    }

    [Fact]
    public async Task SameHostRedirectsAreFollowedWithTheCredentialsAndOthersAreRefused()
    {
        var cert = _pki.Client.CertificatePem();
        var paths = new List<string>();
        await using var server = new LoopbackHttpsServer(_serverCertificate.Certificate, r =>
        {
            lock (paths) paths.Add(r.Path);
            if (r.Path.StartsWith("/remote/")) return new LoopbackHttpResponse(302, "Found", "") { Headers = new Dictionary<string, string> { ["Location"] = "/moved" + r.Path + "?:output=json" } };
            if (!r.Headers.ContainsKey("Authorization")) return new LoopbackHttpResponse(401, "Unauthorized", "");
            return Ok("OK:\r\n" + JsonSerializer.Serialize(cert) + "\r\n");
        });
        using var epo = ClientFor($"127.0.0.1:{server.Port}", User, Password, _caFile);
        Assert.Equal(cert, await epo.GetCaBundleAsync());
        Assert.Equal(new[] { "/remote/" + EpoCommands.CaBundle, "/moved/remote/" + EpoCommands.CaBundle }, paths);

        await using var elsewhere = new LoopbackHttpsServer(_serverCertificate.Certificate, _ =>
            new LoopbackHttpResponse(302, "Found", "") { Headers = new Dictionary<string, string> { ["Location"] = $"https://localhost:{server.Port}/x" } });
        using var epo2 = ClientFor($"127.0.0.1:{elsewhere.Port}", User, Password, _caFile);
        var e = await Assert.ThrowsAsync<EpoNotEpoException>(() => epo2.GetCaBundleAsync());
        Assert.Contains("the credentials are not sent there", e.Message);
    }

    [Fact]
    public async Task AnExplicitProxyCarriesTheConnection()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var proxy = new ConnectProxy();
        using var epo = ClientFor(fabric.Provisioning!.Server, fabric.Provisioning.UserName, fabric.Provisioning.Password, fabric.Files.CaPath,
            proxy: new WebProxy($"http://127.0.0.1:{proxy.Port}") { BypassProxyOnLocal = false });

        await epo.GetBrokerListAsync();

        Assert.Equal(1, proxy.Tunnels);
    }

    [Theory]
    [InlineData("epo.example.test", "epo.example.test", 8443)]
    [InlineData("epo.example.test:9443", "epo.example.test", 9443)]
    [InlineData("https://epo.example.test:443", "epo.example.test", 443)]
    [InlineData("[::1]:8444", "::1", 8444)]
    [InlineData("[::1]", "::1", 8443)]
    public void ServerNamesTakeAnOptionalPortDefaulting8443(string server, string host, int port)
    {
        Assert.Equal((host, port), EpoClient.ParseServer(server));
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://epo.example.test")]
    [InlineData("epo.example.test/remote")]
    public void AServerThatIsNotHostAndPortIsRefused(string server)
    {
        Assert.Throws<DxlProvisioningException>(() => EpoClient.ParseServer(server));
    }
}
