using System.Text;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Provisioning;
using TieDxl.Dxl.Tls;
using TieDxl.Fabric;
using TieDxl.Fabric.Pki;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Config;
using TieDxl.Tie;
using static TieDxl.Tests.Provisioning.ProvisioningTestKit;

namespace TieDxl.Tests.Provisioning;

/// <summary>From an empty folder to a TIE lookup, against the embedded fabric's provisioning endpoint.</summary>
public sealed class ProvisioningEndToEndTests
{
    private static readonly TieHashes Notepad = TieHashes.Create(TieSimulatorSeed.NotepadMd5, TieSimulatorSeed.NotepadSha1, TieSimulatorSeed.NotepadSha256);

    private static async Task<TrustLevel?> LookUpNotepadAsync(string configPath)
    {
        await using var client = new DxlClient(DxlClientConfig.Load(configPath));
        await client.ConnectAsync();
        var result = await new TieClient(client).GetFileReputationAsync(Notepad);
        return result.Gti?.TrustLevel;
    }

    [Fact]
    public async Task ACsrProvisionedThroughTheEndpointGivesAFolderThatConnectsAndLooksUpAFile()
    {
        await using var fabric = await DxlTestFabric.StartAsync();
        using var folder = new TempFolder();
        var log = new List<string>();
        using var epo = ClientFor(fabric, log);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "provisioned-client" });

        var files = await DxlProvisioner.ProvisionAsync(epo, request, folder.Path);

        Assert.Equal(TrustLevel.KnownTrusted, await LookUpNotepadAsync(files.ConfigPath));
        Assert.Equal("CN=provisioned-client", files.CertificateSubject);
        Assert.Equal(fabric.Pki.Ca.Certificate.Subject, files.CertificateIssuer);
        Assert.True(files.PrivateKeyWritten);
        Assert.Equal(new[] { fabric.ProvisionedBroker() }, files.Brokers);
        Assert.Equal(new[] { "ca-bundle.crt", "client.crt", "client.csr", "client.key", "dxlclient.config" },
            Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.PrivateKeyPath));
        Assert.Contains(log, l => l.Contains($"GET /remote/{EpoCommands.Provision} (csrString: {request.CsrPem.Length} characters)"));
        Assert.Contains(log, l => l.Contains("HTTP 200 OK"));
        AssertNoSecret(fabric.Provisioning!.Password, fabric.Provisioning.UserName, log);
        Assert.DoesNotContain(log, l => l.Contains("CERTIFICATE REQUEST"));
    }

    [Fact]
    public async Task TheEndpointListsTheBrokerUnderItsOwnIdSoAMessageAddressedToThatIdGetsThrough()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var folder = new TempFolder();

        var files = await ProvisionAsync(fabric, folder.Path, "addressed");

        var provisionedId = Assert.Single(files.Brokers).Id;
        Assert.Equal(fabric.Broker.BrokerGuid, provisionedId);
        Assert.NotNull(provisionedId);
        await using var client = new DxlClient(DxlClientConfig.Load(files.ConfigPath));
        await client.ConnectAsync();
        var received = new TaskCompletionSource<DxlEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await client.SubscribeAsync("/tiedxl/test/addressed", e => { received.TrySetResult(e); return Task.CompletedTask; });
        var addressed = new DxlEvent("/tiedxl/test/addressed", "to this broker"u8.ToArray());
        addressed.BrokerIds.Add(provisionedId);
        await client.SendEventAsync(addressed);
        Assert.Equal("to this broker", (await received.Task.WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
    }

    [Fact]
    public async Task TheWrittenFilesAreExactlyTheLayoutOfTheReferenceCliWithEposPemTextKept()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        fabric.Provisioning!.WebSocketBrokers = new[] { new DxlBroker("{ws-1}", "ws.example.test", 443, "10.0.0.9", true) };
        using var folder = new TempFolder();
        using var epo = ClientFor(fabric);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "layout" });

        var files = await DxlProvisioner.ProvisionAsync(epo, request, folder.Path, prefix: "mine");

        var broker = fabric.ProvisionedBroker();
        Assert.Equal(
            "[Certs]\nBrokerCertChain = ca-bundle.crt\nCertFile = mine.crt\nPrivateKey = mine.key\n\n" +
            $"[Brokers]\n{broker.Id} = {broker.Id};{fabric.Port};127.0.0.1;127.0.0.1\n\n" +
            "[BrokersWebSockets]\n{ws-1} = {ws-1};443;ws.example.test;10.0.0.9\n\n" +
            "[General]\n#UseWebSockets = False\n",
            File.ReadAllText(files.ConfigPath));
        var caBundle = File.ReadAllText(files.CaBundlePath);
        Assert.Equal(fabric.Provisioning.CaBundlePem, caBundle);
        Assert.Contains("-----BEGIN CERTIFICATE-----\r\n", caBundle);
        Assert.Contains("-----BEGIN CERTIFICATE-----\r\n", File.ReadAllText(files.CertificatePath));
        Assert.Equal(request.CsrPem, File.ReadAllText(files.CertificateRequestPath!));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", File.ReadAllText(files.PrivateKeyPath));
        Assert.Equal(Path.Combine(folder.Path, "mine.crt"), files.CertificatePath);
        Assert.Empty(Directory.GetFiles(folder.Path, ".*.tmp"));
    }

    [Fact]
    public async Task AKeyPasswordEncryptsTheKeyAndOnlyThatPasswordOpensIt()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var folder = new TempFolder();
        using var epo = ClientFor(fabric);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "encrypted" });

        var files = await DxlProvisioner.ProvisionAsync(epo, request, folder.Path, keyPassword: "correct horse");

        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", File.ReadAllText(files.PrivateKeyPath));
        using (var loaded = DxlCertificates.LoadClientCertificate(files.CertificatePath, files.PrivateKeyPath, "correct horse"))
            Assert.True(loaded.HasPrivateKey);
        var wrong = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(files.CertificatePath, files.PrivateKeyPath, "wrong"));
        Assert.Contains("password is wrong", wrong.Message);
    }

    [Fact]
    public async Task ABroughtCsrIsSentByteForByteAndNoKeyIsWritten()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var folder = new TempFolder();
        using (var generated = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "own-csr", Organization = "Example", DnsNames = new[] { "host1.example.test" } }))
            generated.Write(folder.Path, "client", default, force: false);
        var keyBefore = File.ReadAllBytes(folder.Combine("client.key"));
        using var brought = DxlCertificateRequest.Load(folder.Combine("client.csr"));
        using var epo = ClientFor(fabric);

        var files = await DxlProvisioner.ProvisionAsync(epo, brought, folder.Path);

        Assert.False(files.PrivateKeyWritten);
        Assert.Null(files.CertificateRequestPath);
        Assert.Equal(keyBefore, File.ReadAllBytes(folder.Combine("client.key")));
        using var pair = DxlCertificates.LoadClientCertificate(files.CertificatePath, files.PrivateKeyPath);
        Assert.Equal("CN=own-csr, O=Example", pair.Subject);
        Assert.Contains("host1.example.test", pair.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
    }

    [Fact]
    public async Task AnExistingConfigOrKeyIsKeptUnlessForcedAndEpoIsNotAskedBeforeThat()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var folder = new TempFolder();
        folder.Write("client.key", "mine");
        using var epo = ClientFor(fabric);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "again" });

        var refused = await Assert.ThrowsAsync<DxlProvisioningException>(() => DxlProvisioner.ProvisionAsync(epo, request, folder.Path));

        Assert.Contains(folder.Combine("client.key"), refused.Message);
        Assert.Contains("nothing was written", refused.Message);
        Assert.Equal(0, fabric.Provisioning!.Requests);
        Assert.Equal(new[] { folder.Combine("client.key") }, Directory.GetFiles(folder.Path));

        var files = await DxlProvisioner.ProvisionAsync(epo, request, folder.Path, force: true);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(files.PrivateKeyPath));
        await Assert.ThrowsAsync<DxlProvisioningException>(() => DxlProvisioner.ProvisionAsync(epo, request, folder.Path));
    }

    [Fact]
    public async Task UpdateTakesTheNewCaBundleAndBrokersKeepsCommentsAndSettingsAndDropsRetiredBrokers()
    {
        await using var fabric = await DxlTestFabric.StartAsync();
        using var folder = new TempFolder();
        using var epo = ClientFor(fabric);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "updated" });
        var files = await DxlProvisioner.ProvisionAsync(epo, request, folder.Path);
        var live = fabric.ProvisionedBroker();
        var retired = new DxlBroker("{retired}", "old.example.test", 8883, "10.0.0.1");
        var config = "# kept: a comment of the user\r\n[Certs]\r\nBrokerCertChain = ca-bundle.crt\r\nCertFile = client.crt\r\nPrivateKey = client.key\r\n\r\n" +
                     $"[Brokers]\r\n# the retired one\r\n{retired.Id} = {retired.ToConfigValue()}\r\n# the live one\r\n{live.Id} = {live.ToConfigValue()}\r\n\r\n" +
                     "[General]\r\nClientId = {my-id} # kept too\r\n";
        File.WriteAllText(files.ConfigPath, config);

        using var extraCa = DxlTestPki.Create(caName: "Rotated CA");
        fabric.Provisioning!.CaBundlePem = fabric.Pki.Ca.CertificatePem() + extraCa.Ca.CertificatePem();
        var added = new DxlBroker("{added}", "new.example.test", 8993, "10.0.0.2");
        fabric.Provisioning.Brokers = new[] { live, added };

        var plan = await DxlProvisioner.PlanUpdateAsync(epo, files.ConfigPath);

        Assert.Equal(config, File.ReadAllText(files.ConfigPath)); // planning writes nothing
        Assert.True(plan.CaBundleChanged);
        Assert.Equal(new[] { (DxlBrokerChangeKind.Removed, retired.Id), (DxlBrokerChangeKind.Unchanged, live.Id), (DxlBrokerChangeKind.Added, added.Id) },
            plan.BrokerChanges.Select(c => (c.Kind, c.Broker.Id)).OrderBy(c => c.Kind == DxlBrokerChangeKind.Added));

        DxlClientConfigUpdater.Apply(plan);

        Assert.Equal("# kept: a comment of the user\r\n[Certs]\r\nBrokerCertChain = ca-bundle.crt\r\nCertFile = client.crt\r\nPrivateKey = client.key\r\n\r\n" +
                     $"[Brokers]\r\n# the live one\r\n{live.Id} = {live.ToConfigValue()}\r\n{added.Id} = {added.ToConfigValue()}\r\n\r\n" +
                     "[General]\r\nClientId = {my-id} # kept too\r\n",
            File.ReadAllText(files.ConfigPath));
        Assert.Equal(fabric.Provisioning.CaBundlePem, File.ReadAllText(files.CaBundlePath));
        Assert.Equal(2, DxlCertificates.LoadCaBundle(files.CaBundlePath).Count);
        Assert.Equal("{my-id}", DxlClientConfig.Load(files.ConfigPath).ClientId);
        Assert.Equal(TrustLevel.KnownTrusted, await LookUpNotepadAsync(files.ConfigPath));

        var again = await DxlProvisioner.PlanUpdateAsync(epo, files.ConfigPath);
        Assert.False(again.HasChanges);
    }

    [Fact]
    public async Task UpdateReplacesWebSocketBrokersOnlyWhenEpoListsSome()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var folder = new TempFolder();
        var ws = new DxlBroker("{ws}", "ws.example.test", 443, null, true);
        fabric.Provisioning!.WebSocketBrokers = new[] { ws };
        using var epo = ClientFor(fabric);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "ws" });
        var files = await DxlProvisioner.ProvisionAsync(epo, request, folder.Path);

        fabric.Provisioning.WebSocketBrokers = Array.Empty<DxlBroker>();
        var kept = await DxlProvisioner.PlanUpdateAsync(epo, files.ConfigPath);
        Assert.Equal(new[] { DxlBrokerChangeKind.Unchanged }, kept.WebSocketBrokerChanges.Select(c => c.Kind));
        Assert.Contains("{ws} = {ws};443;ws.example.test", kept.NewConfigText);

        var moved = ws with { Port = 8443 };
        fabric.Provisioning.WebSocketBrokers = new[] { moved };
        var changed = await DxlProvisioner.PlanUpdateAsync(epo, files.ConfigPath);
        Assert.Equal(DxlBrokerChangeKind.Changed, Assert.Single(changed.WebSocketBrokerChanges).Kind);
        Assert.Contains("{ws} = {ws};8443;ws.example.test\n", changed.NewConfigText);
    }

    [Fact]
    public async Task ACertificateForAnotherKeyIsRefusedAndNothingIsWritten()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var folder = new TempFolder();
        using var epo = ClientFor(fabric);
        using var signed = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "signed" });
        using var other = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "other" });
        var package = await epo.ProvisionAsync(signed.CsrPem);

        var e = Assert.Throws<DxlProvisioningException>(() => DxlClientConfigWriter.Plan(folder.Path, package, other));

        Assert.Contains("does not carry the public key", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }
}

/// <summary>A freshly written folder that the broker or the client refuses: the error says which side and names the file.</summary>
public sealed class ProvisionedTlsRefusalTests
{
    private static DxlClientConfigFiles WriteFolder(TempFolder folder, DxlTestFabric fabric, Func<string, string> caBundle, DxlTestPki signer)
    {
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "refused" });
        var signed = signer.SignClientRequest(System.Security.Cryptography.X509Certificates.CertificateRequest.LoadSigningRequestPem(
            request.CsrPem, System.Security.Cryptography.HashAlgorithmName.SHA256));
        var certificate = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", signed.RawData) + "\n";
        var package = new DxlProvisioningPackage(caBundle(fabric.Pki.Ca.CertificatePem()), certificate, new[] { fabric.ProvisionedBroker() }, Array.Empty<DxlBroker>());
        return DxlClientConfigWriter.Write(DxlClientConfigWriter.Plan(folder.Path, package, request));
    }

    [Fact]
    public async Task ABrokerThatDoesNotTrustTheClientsCaIsNamedWithTheCertificateFile()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false, WithProvisioningEndpoint = false });
        using var foreign = DxlTestPki.Create(caName: "Not Imported CA");
        using var folder = new TempFolder();
        var files = WriteFolder(folder, fabric, ca => ca, foreign);
        var config = DxlClientConfig.Load(files.ConfigPath);
        config.ConnectRetries = 0;
        await using var client = new DxlClient(config);

        var e = await Assert.ThrowsAsync<DxlTlsException>(() => client.ConnectAsync());

        Assert.Contains("refused this client's certificate", e.Message);
        Assert.Contains(files.CertificatePath, e.Message);
        Assert.Contains("Not Imported CA", e.Message);
    }

    [Fact]
    public async Task ACaBundleThatDoesNotTrustTheBrokerIsNamedWithItsFile()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false, WithProvisioningEndpoint = false });
        using var other = DxlTestPki.Create(caName: "Wrong Bundle CA");
        using var folder = new TempFolder();
        var files = WriteFolder(folder, fabric, _ => other.Ca.CertificatePem(), fabric.Pki);
        var config = DxlClientConfig.Load(files.ConfigPath);
        config.ConnectRetries = 0;
        await using var client = new DxlClient(config);

        var e = await Assert.ThrowsAsync<DxlTlsException>(() => client.ConnectAsync());

        Assert.Contains("the broker's certificate was rejected", e.Message);
        Assert.Contains(files.CaBundlePath, e.Message);
    }

    [Fact]
    public async Task TestDxlFabricStepsNameTheFileOfTheSideThatRefused()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false, WithProvisioningEndpoint = false });
        using var foreign = DxlTestPki.Create(caName: "Not Imported CA");
        using var wrongBundle = DxlTestPki.Create(caName: "Wrong Bundle CA");
        using var brokerRefuses = new TempFolder();
        using var clientRefuses = new TempFolder();
        var refusedByBroker = WriteFolder(brokerRefuses, fabric, ca => ca, foreign);
        var refusedByClient = WriteFolder(clientRefuses, fabric, _ => wrongBundle.Ca.CertificatePem(), fabric.Pki);

        static async Task<string> FailedStep(string configPath) =>
            (await DxlDiagnostics.RunAsync(() => DxlClientConfig.Load(configPath), null, null, TimeSpan.FromSeconds(5)))
                .First(s => s.Status == DxlCheckStatus.Failed).Detail;

        var brokerSide = await FailedStep(refusedByBroker.ConfigPath);
        Assert.Contains("refused this client's certificate", brokerSide);
        Assert.Contains(refusedByBroker.CertificatePath, brokerSide);
        var clientSide = await FailedStep(refusedByClient.ConfigPath);
        Assert.Contains("the broker's certificate was rejected", clientSide);
        Assert.Contains(refusedByClient.CaBundlePath, clientSide);
    }
}
