using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Provisioning;
using TieDxl.Fabric.Pki;

namespace TieDxl.Fabric.Provisioning;

/// <summary>
/// An ePO-compatible provisioning endpoint for the embedded fabric, on loopback HTTPS: the three DXL client remote
/// commands, Basic authentication with throwaway credentials, CSRs signed by the fabric's CA, the fabric's own
/// brokers. Answers have ePO's exact form (<c>OK:</c> + CRLF + JSON + CRLF, CRLF inside PEM text, the broker list
/// JSON-encoded twice with string ports) so the reference Python CLI provisions against it unchanged.
/// </summary>
public sealed class EpoProvisioningEndpoint : IAsyncDisposable
{
    public const string DefaultUserName = "tiedxl-admin";

    // Python's json.dumps leaves '+', '<', '>' and '&' as they are; so do we.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly DxlTestPki _pki;
    private readonly LoopbackHttpsServer _server;
    private readonly DxlTestCertificate _serverCertificate;
    private readonly object _lock = new();
    private IReadOnlyList<DxlBroker> _brokers;
    private IReadOnlyList<DxlBroker> _webSocketBrokers = Array.Empty<DxlBroker>();
    private string _caBundlePem;
    private int _requests;

    public EpoProvisioningEndpoint(DxlTestPki pki, IEnumerable<DxlBroker> brokers, string userName = DefaultUserName, string? password = null)
    {
        _pki = pki;
        _brokers = brokers.ToArray();
        _caBundlePem = ToCrlf(pki.Ca.CertificatePem());
        UserName = userName;
        Password = password ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        _serverCertificate = pki.IssueBroker("tiedxl-test-epo");
        _server = new LoopbackHttpsServer(_serverCertificate.Certificate, Handle);
    }

    public string UserName { get; }

    /// <summary>Generated per endpoint; throwaway, shown to the user on purpose.</summary>
    public string Password { get; }

    public int Port => _server.Port;

    /// <summary>host:port to give as the ePO server.</summary>
    public string Server => $"127.0.0.1:{Port}";

    public string Url => $"https://{Server}{EpoCommands.PathPrefix}";

    /// <summary>Requests answered so far (authenticated or not).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The brokers the endpoint lists; replace them to rehearse an update.</summary>
    public IReadOnlyList<DxlBroker> Brokers
    {
        get { lock (_lock) return _brokers; }
        set { lock (_lock) _brokers = value.ToArray(); }
    }

    public IReadOnlyList<DxlBroker> WebSocketBrokers
    {
        get { lock (_lock) return _webSocketBrokers; }
        set { lock (_lock) _webSocketBrokers = value.ToArray(); }
    }

    /// <summary>The client CA bundle the endpoint hands out (CRLF line ends, as ePO).</summary>
    public string CaBundlePem
    {
        get { lock (_lock) return _caBundlePem; }
        set { lock (_lock) _caBundlePem = ToCrlf(value); }
    }

    private LoopbackHttpResponse Handle(LoopbackHttpRequest request)
    {
        Interlocked.Increment(ref _requests);
        if (!Authorized(request))
            return new LoopbackHttpResponse(401, "Unauthorized", "Unauthorized") { Headers = new Dictionary<string, string> { ["WWW-Authenticate"] = "Basic realm=\"ePO\"" } };
        if (request.Method != "GET" || !request.Path.StartsWith(EpoCommands.PathPrefix, StringComparison.Ordinal))
            return new LoopbackHttpResponse(404, "Not Found", "<html><body>Not Found</body></html>", "text/html");
        var command = request.Path[EpoCommands.PathPrefix.Length..];
        request.Query.TryGetValue(EpoCommands.OutputParameter, out var output);
        var json = output == "json";
        try
        {
            return command switch
            {
                EpoCommands.Provision => Ok(Provision(request), json),
                EpoCommands.CaBundle => Ok(CaBundlePem, json),
                EpoCommands.BrokerList => Ok(BrokerListJson(), json),
                _ => Error(0, $"Unknown command: {command}"),
            };
        }
        catch (EndpointError e)
        {
            return Error(0, e.Message);
        }
    }

    private bool Authorized(LoopbackHttpRequest request)
    {
        if (!request.Headers.TryGetValue("Authorization", out var header) || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())); }
        catch (FormatException) { return false; }
        var expected = Encoding.UTF8.GetBytes(UserName + ":" + Password);
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(decoded), expected);
    }

    private string Provision(LoopbackHttpRequest request)
    {
        if (!request.Query.TryGetValue(EpoCommands.CsrParameter, out var csr) || csr.Length == 0)
            throw new EndpointError($"The parameter {EpoCommands.CsrParameter} is required");
        CertificateRequest parsed;
        try { parsed = CertificateRequest.LoadSigningRequestPem(csr, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions); }
        catch (CryptographicException e) { throw new EndpointError($"The certificate request cannot be read: {e.Message}"); }
        using var signed = _pki.SignClientRequest(parsed);
        var certificate = ToCrlf(PemEncoding.WriteString("CERTIFICATE", signed.RawData) + "\n");
        var parts = new List<string> { CaBundlePem, certificate, BrokerLines(Brokers) };
        if (WebSocketBrokers.Count > 0) parts.Add(BrokerLines(WebSocketBrokers));
        return string.Join(",", parts);
    }

    private static string BrokerLines(IEnumerable<DxlBroker> brokers) => string.Join("\n", brokers.Select(b => $"{b.Id}={b.ToConfigValue()}"));

    /// <summary>The broker list's inner JSON (ports as strings, as ePO sends them); <see cref="Ok"/> encodes it once more.</summary>
    private string BrokerListJson()
    {
        static object[] Describe(IEnumerable<DxlBroker> brokers) =>
            brokers.Select(b => (object)new { guid = b.Id, hostName = b.Host, ipAddress = b.IpAddress ?? "", port = b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToArray();
        return JsonSerializer.Serialize(new { brokers = Describe(Brokers), webSocketBrokers = Describe(WebSocketBrokers), certVersion = 0 }, Json);
    }

    private static LoopbackHttpResponse Ok(string value, bool json) =>
        new(200, "OK", "OK:\r\n" + (json ? JsonSerializer.Serialize(value, Json) : value) + "\r\n");

    private static LoopbackHttpResponse Error(int code, string message) => new(200, "OK", $"Error {code}: {message}\r\n");

    private static string ToCrlf(string pem) => pem.Replace("\r\n", "\n").Replace("\n", "\r\n");

    private sealed class EndpointError(string message) : Exception(message);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().ConfigureAwait(false);
    }
}
