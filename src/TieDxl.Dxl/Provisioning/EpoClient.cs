using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Tls;

namespace TieDxl.Dxl.Provisioning;

/// <summary>The names of ePO's remote commands for DXL clients, and where they are served.</summary>
public static class EpoCommands
{
    /// <summary>Signs a CSR; answers the client CA bundle, the signed certificate and the broker lines.</summary>
    public const string Provision = "DxlBrokerMgmt.generateOpenDXLClientProvisioningPackageCmd";

    /// <summary>Answers the current client CA bundle (what an update compares with the local one).</summary>
    public const string CaBundle = "DxlClientMgmt.createClientCaBundle";

    /// <summary>Answers the current brokers and WebSocket brokers.</summary>
    public const string BrokerList = "DxlClientMgmt.getBrokerList";

    /// <summary>The provisioning command's only parameter: the CSR in PEM.</summary>
    public const string CsrParameter = "csrString";

    /// <summary>Asks for the JSON answer form; sent as <c>%3Aoutput=json</c>.</summary>
    public const string OutputParameter = ":output";

    /// <summary>Every remote command is served at this path plus its name.</summary>
    public const string PathPrefix = "/remote/";

    /// <summary>ePO's console and remote-command port unless the server names another.</summary>
    public const int DefaultPort = 8443;
}

/// <summary>Settings of an <see cref="EpoClient"/>.</summary>
public sealed class EpoClientOptions
{
    /// <summary><c>host[:port]</c> (IPv6 in brackets); the port is 8443 unless given.</summary>
    public required string Server { get; init; }

    /// <summary>An ePO user allowed to run the DXL client commands. The password never leaves this object but in the Authorization header.</summary>
    public required NetworkCredential Credential { get; init; }

    /// <summary>PEM file of the CA(s) that issued ePO's TLS certificate; null trusts what the system trusts.</summary>
    public string? CaFilePath { get; init; }

    /// <summary>Accept any certificate from ePO. Only on the user's explicit request.</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>The proxy; null uses the environment's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, or the system setting).</summary>
    public IWebProxy? Proxy { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Each command and HTTP status at Information level; never a header, the CSR or an answer's secrets.</summary>
    public DxlLogSink? Log { get; init; }
}

/// <summary>
/// ePO's remote-command interface over HTTPS with Basic authentication:
/// <c>GET /remote/{command}?%3Aoutput=json&amp;…</c>. Every failure is a distinct <see cref="EpoException"/>.
/// </summary>
public sealed class EpoClient : IDisposable
{
    private const int MaxRedirects = 5;
    private const int MaxBodyChars = 16 << 20;

    private readonly EpoClientOptions _options;
    private readonly HttpClient _http;
    private readonly X509Certificate2Collection? _trustedRoots;
    private readonly AuthenticationHeaderValue _authorization;
    private string? _lastTlsRefusal;

    public EpoClient(EpoClientOptions options)
    {
        _options = options;
        (Host, Port) = ParseServer(options.Server);
        Server = $"{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}";
        if (!options.SkipCertificateCheck && options.CaFilePath is not null)
            _trustedRoots = DxlCertificates.LoadCaBundle(options.CaFilePath);
        var user = options.Credential.UserName;
        _authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + options.Credential.Password)));

        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // redirects are followed below, same host only, with the credentials
            UseCookies = true,
            CookieContainer = new CookieContainer(),
            ConnectTimeout = options.Timeout,
            UseProxy = true,
            Proxy = options.Proxy,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = ValidateServerCertificate;
        _http = new HttpClient(handler) { Timeout = options.Timeout };
    }

    public string Host { get; }
    public int Port { get; }

    /// <summary>host:port as used in messages.</summary>
    public string Server { get; }

    /// <summary>Sends the CSR for signing; returns the validated CA bundle, certificate and broker lists.</summary>
    public async Task<DxlProvisioningPackage> ProvisionAsync(string csrPem, CancellationToken cancellationToken = default)
    {
        var json = await InvokeAsync(EpoCommands.Provision, new[] { (EpoCommands.CsrParameter, csrPem) }, cancellationToken).ConfigureAwait(false);
        return Parse(EpoCommands.Provision, () => EpoAnswers.ParseProvisioningPackage(EpoAnswers.DecodeJsonString(json, "the answer")));
    }

    /// <summary>The current CA bundle (PEM, every block checked to be a certificate).</summary>
    public async Task<string> GetCaBundleAsync(CancellationToken cancellationToken = default)
    {
        var json = await InvokeAsync(EpoCommands.CaBundle, Array.Empty<(string, string)>(), cancellationToken).ConfigureAwait(false);
        return Parse(EpoCommands.CaBundle, () =>
        {
            var pem = EpoAnswers.DecodeJsonString(json, "the answer");
            EpoAnswers.ParseCertificates(pem, "the CA bundle");
            return pem;
        });
    }

    /// <summary>The current brokers.</summary>
    public async Task<EpoBrokerList> GetBrokerListAsync(CancellationToken cancellationToken = default)
    {
        var json = await InvokeAsync(EpoCommands.BrokerList, Array.Empty<(string, string)>(), cancellationToken).ConfigureAwait(false);
        return Parse(EpoCommands.BrokerList, () => EpoAnswers.ParseBrokerList(EpoAnswers.DecodeJsonString(json, "the answer")));
    }

    private T Parse<T>(string command, Func<T> parse)
    {
        try { return parse(); }
        catch (Exception e) when (e is FormatException or DxlConfigException)
        {
            throw new EpoAnswerException(Server, command, e.Message, e);
        }
    }

    /// <summary>Runs a remote command; returns the JSON text after <c>OK:</c>.</summary>
    public async Task<string> InvokeAsync(string command, IReadOnlyList<(string Name, string Value)> parameters, CancellationToken cancellationToken = default)
    {
        var query = new StringBuilder(Uri.EscapeDataString(EpoCommands.OutputParameter)).Append("=json");
        foreach (var (name, value) in parameters)
            query.Append('&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
        var uri = new UriBuilder(Uri.UriSchemeHttps, Host, Port, EpoCommands.PathPrefix + command) { Query = query.ToString() }.Uri;
        var described = parameters.Count == 0 ? "" : " (" + string.Join(", ", parameters.Select(p => $"{p.Name}: {p.Value.Length} characters")) + ")";

        for (var redirects = 0; ; redirects++)
        {
            Log($"ePO {Server}: GET {uri.AbsolutePath}{described}");
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Authorization = _authorization;
            using var response = await SendAsync(command, request, cancellationToken).ConfigureAwait(false);
            var body = await ReadBodyAsync(command, response, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            Log($"ePO {Server}: HTTP {status} {response.ReasonPhrase}, {body.Length} characters");

            if (status is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                if (redirects >= MaxRedirects)
                    throw new EpoNotEpoException(Server, command, $"more than {MaxRedirects} redirects");
                if (next.Scheme != Uri.UriSchemeHttps || !string.Equals(next.Host, uri.Host, StringComparison.OrdinalIgnoreCase) || next.Port != uri.Port)
                    throw new EpoNotEpoException(Server, command, $"HTTP {status} redirects to another server ({next.GetLeftPart(UriPartial.Authority)}); the credentials are not sent there");
                uri = next;
                continue;
            }
            return Interpret(command, status, response, body);
        }
    }

    private string Interpret(string command, int status, HttpResponseMessage response, string body)
    {
        var user = _options.Credential.UserName;
        if (status == 401) throw new EpoAuthenticationException(Server, command, user);
        var answer = EpoAnswers.Classify(body);
        if (status == 403) throw new EpoPermissionException(Server, command, user, answer?.ErrorText ?? $"HTTP 403 {response.ReasonPhrase}");
        if (answer is null)
        {
            var html = response.Content.Headers.ContentType?.MediaType?.Contains("html", StringComparison.OrdinalIgnoreCase) == true || body.TrimStart().StartsWith('<');
            var what = body.Trim().Length == 0 ? "an empty body" : html ? "an HTML page" : $"'{EpoAnswers.Shorten(OneLine(body))}'";
            throw new EpoNotEpoException(Server, command, $"HTTP {status} {response.ReasonPhrase} with {what} instead of 'OK:' or 'Error n:'");
        }
        if (!answer.IsOk)
        {
            if (EpoAnswers.IsPermissionError(answer.ErrorText!)) throw new EpoPermissionException(Server, command, user, $"Error {answer.ErrorCode}: {answer.ErrorText}");
            throw new EpoCommandException(Server, command, answer.ErrorCode!.Value, answer.ErrorText!);
        }
        if (status is < 200 or >= 300)
            throw new EpoNotEpoException(Server, command, $"HTTP {status} {response.ReasonPhrase} with an 'OK:' body");
        return answer.Json!;
    }

    private async Task<HttpResponseMessage> SendAsync(string command, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _lastTlsRefusal = null;
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EpoUnreachableException(Server, command, $"no answer within {_options.Timeout.TotalSeconds:0} s", e);
        }
        catch (HttpRequestException e)
        {
            throw MapTransportFailure(command, e);
        }
    }

    private EpoException MapTransportFailure(string command, HttpRequestException e)
    {
        if (_lastTlsRefusal is { } refusal) return new EpoTlsException(Server, command, refusal, e);
        var tls = Find<AuthenticationException>(e);
        if (tls is not null || e.HttpRequestError == HttpRequestError.SecureConnectionError)
            return new EpoTlsException(Server, command, $"the handshake failed ({(tls ?? (Exception)e).Message}); is this an HTTPS port?", e);
        if (Find<SocketException>(e) is { } socket)
        {
            var reason = socket.SocketErrorCode switch
            {
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"the host name {Host} does not resolve",
                SocketError.ConnectionRefused => $"nothing accepts connections on port {Port}",
                SocketError.TimedOut => "the connection timed out",
                _ => socket.Message,
            };
            return new EpoUnreachableException(Server, command, reason, e);
        }
        if (e.HttpRequestError == HttpRequestError.NameResolutionError)
            return new EpoUnreachableException(Server, command, $"the host name {Host} does not resolve", e);
        if (e.HttpRequestError == HttpRequestError.ProxyTunnelError)
            return new EpoUnreachableException(Server, command, $"the proxy refused the tunnel ({e.Message})", e);
        if (e.HttpRequestError is HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded)
            return new EpoNotEpoException(Server, command, $"the answer is not valid HTTP ({e.Message})");
        return new EpoUnreachableException(Server, command, e.Message, e);
    }

    private static T? Find<T>(Exception e) where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is T t) return t;
        return null;
    }

    private async Task<string> ReadBodyAsync(string command, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[8192];
            var text = new StringBuilder();
            int n;
            while ((n = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                text.Append(buffer, 0, n);
                if (text.Length > MaxBodyChars) throw new EpoNotEpoException(Server, command, $"the answer is larger than {MaxBodyChars} characters");
            }
            return text.ToString();
        }
        catch (HttpRequestException e)
        {
            throw MapTransportFailure(command, e);
        }
        catch (IOException e)
        {
            throw new EpoUnreachableException(Server, command, $"the connection broke while reading the answer ({e.Message})", e);
        }
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_options.SkipCertificateCheck) return true;
        _lastTlsRefusal = DescribeRefusal(certificate, chain, errors);
        return _lastTlsRefusal is null;
    }

    /// <summary>Null when ePO's certificate is acceptable, else why not.</summary>
    private string? DescribeRefusal(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return "ePO sent no certificate";
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        var reasons = new List<string>();
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            reasons.Add($"ePO's certificate (subject {leaf.Subject}) does not name the host {Host}");

        if (_trustedRoots is null)
        {
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                reasons.Add($"ePO's certificate (subject {leaf.Subject}, issuer {leaf.Issuer}) is not trusted by this system ({ChainStatus(presented)}); " +
                            "give the file of the CA that issued it as ePO's CA file, or skip the check explicitly");
        }
        else
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_trustedRoots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            if (presented is not null)
                foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            if (!chain.Build(leaf))
                reasons.Add($"ePO's certificate (subject {leaf.Subject}, issuer {leaf.Issuer}) is not signed by a CA in {_options.CaFilePath} ({ChainStatus(chain)})");
        }
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    private static string ChainStatus(X509Chain? chain)
    {
        var statuses = chain?.ChainStatus.Select(s => s.Status.ToString()).Distinct().ToList();
        return statuses is { Count: > 0 } ? string.Join(", ", statuses) : "chain error";
    }

    /// <summary><c>host[:port]</c>, <c>[v6]:port</c> or an https:// URL.</summary>
    public static (string Host, int Port) ParseServer(string server)
    {
        if (string.IsNullOrWhiteSpace(server)) throw new DxlProvisioningException("no ePO server was given (host or host:port)");
        var text = server.Trim();
        if (!text.Contains("://", StringComparison.Ordinal)) text = "https://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.Host.Length == 0 || uri.AbsolutePath.Trim('/').Length > 0)
            throw new DxlProvisioningException($"'{server.Trim()}' is not an ePO server; give host or host:port (https only)");
        var port = uri.IsDefaultPort && !HasExplicitPort(server) ? EpoCommands.DefaultPort : uri.Port;
        return (uri.Host.Trim('[', ']'), port);
    }

    private static bool HasExplicitPort(string server) =>
        System.Text.RegularExpressions.Regex.IsMatch(server.Trim(), @":\d+/?$");

    private static string OneLine(string s) => s.Replace('\r', ' ').Replace('\n', ' ').Trim();

    private void Log(string message) => _options.Log?.Invoke(DxlLogLevel.Information, message);

    public void Dispose() => _http.Dispose();
}
