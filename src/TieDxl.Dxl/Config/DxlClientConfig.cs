using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl.Tls;

namespace TieDxl.Dxl.Config;

/// <summary>HTTP CONNECT proxy, used for WebSocket brokers only (as the Python client does).</summary>
public sealed record DxlProxy(string Address, int Port, string? User = null, string? Password = null)
{
    // Never print the password.
    public override string ToString() => $"http://{(string.IsNullOrEmpty(User) ? "" : User + "@")}{Address}:{Port}";
}

/// <summary>
/// Everything a <see cref="Client.DxlClient"/> needs: brokers, certificates and the connection policy.
/// Read from an OpenDXL <c>dxlclient.config</c> with <see cref="Load"/>, or built in code.
/// </summary>
public sealed class DxlClientConfig
{
    /// <summary>The file this config was read from (null when built in code). Relative paths resolve against its folder.</summary>
    public string? ConfigFilePath { get; set; }

    // [Certs]
    public string? BrokerCertChainPath { get; set; }
    public string? CertFilePath { get; set; }
    public string? PrivateKeyPath { get; set; }

    /// <summary>Password of an encrypted PEM key or a PKCS#12 file. Never logged.</summary>
    public string? PrivateKeyPassword { get; set; }

    /// <summary>A client certificate with its private key, instead of the files.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>The CA bundle that validates brokers, instead of <see cref="BrokerCertChainPath"/>.</summary>
    public X509Certificate2Collection? BrokerCaCertificates { get; set; }

    // [Brokers] / [BrokersWebSockets]
    public List<DxlBroker> Brokers { get; } = new();
    public List<DxlBroker> WebSocketBrokers { get; } = new();

    // [General]
    /// <summary>Null: WebSockets only when there are WebSocket brokers and no MQTT ones (as Python).</summary>
    public bool? UseWebSockets { get; set; }

    /// <summary>MQTT client id and reply-topic suffix. "{uuid}" by default, unique per config object.</summary>
    public string ClientId { get; set; } = "{" + Guid.NewGuid().ToString("D") + "}";

    // [Proxy]
    public DxlProxy? Proxy { get; set; }

    // Connection policy: the defaults of the Python client 5.7.
    public int KeepAliveSeconds { get; set; } = 1800;
    /// <summary>Attempts of one connect run = retries + 1; -1 is unlimited.</summary>
    public int ConnectRetries { get; set; } = 1;
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan ReconnectDelayMax { get; set; } = TimeSpan.FromSeconds(60);
    public double ReconnectBackOffMultiplier { get; set; } = 2;
    public double ReconnectDelayRandom { get; set; } = 0.25;
    public bool ReconnectWhenDisconnected { get; set; } = true;
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan BrokerProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Reference clients accept any host name once the chain validates; this opts in to a strict check.</summary>
    public bool StrictHostNameCheck { get; set; }

    /// <summary>The brokers this config connects to: WebSocket or MQTT, never both (no fallback).</summary>
    public IReadOnlyList<DxlBroker> EffectiveBrokers =>
        (UseWebSockets ?? (WebSocketBrokers.Count > 0 && Brokers.Count == 0)) ? WebSocketBrokers : Brokers;

    /// <summary>Reads an OpenDXL dxlclient.config. Throws <see cref="DxlConfigException"/> naming file, line or setting.</summary>
    public static DxlClientConfig Load(string path) => DxlConfigFileReader.Read(path);

    /// <summary>Reads config text as if it were the file <paramref name="path"/> (relative paths resolve against its folder).</summary>
    internal static DxlClientConfig Parse(string text, string path) =>
        DxlConfigFileReader.Read(Path.GetFullPath(path), text.Replace("\r\n", "\n").Split('\n'));

    private readonly object _cacheLock = new();
    private (string Cert, string? Key, string? Password, X509Certificate2 Value)? _clientCertCache;
    private (string Path, X509Certificate2Collection Value)? _caCache;

    /// <summary>
    /// A path as configured, made absolute: relative paths resolve against the folder of
    /// <see cref="ConfigFilePath"/> (or the working directory when the config was built in code).
    /// </summary>
    public string ResolvePath(string path)
    {
        if (Path.IsPathFullyQualified(path)) return path;
        var baseDir = ConfigFilePath is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(ConfigFilePath))!;
        return Path.GetFullPath(path, baseDir);
    }

    /// <summary>Loads (or returns) the client certificate with its key. Throws <see cref="DxlConfigException"/>.</summary>
    public X509Certificate2 GetClientCertificate()
    {
        if (ClientCertificate is not null) return ClientCertificate;
        if (string.IsNullOrWhiteSpace(CertFilePath))
            throw new DxlConfigException("no client certificate is configured (set CertFile and PrivateKey in [Certs])", ConfigFilePath, null, "CertFile");
        var cert = ResolvePath(CertFilePath);
        var key = string.IsNullOrWhiteSpace(PrivateKeyPath) ? null : ResolvePath(PrivateKeyPath);
        lock (_cacheLock)
        {
            if (_clientCertCache is { } c && c.Cert == cert && c.Key == key && c.Password == PrivateKeyPassword) return c.Value;
            var loaded = DxlCertificates.LoadClientCertificate(cert, key, PrivateKeyPassword);
            _clientCertCache = (cert, key, PrivateKeyPassword, loaded);
            return loaded;
        }
    }

    /// <summary>Loads (or returns) the broker CA bundle. Throws <see cref="DxlConfigException"/>.</summary>
    public X509Certificate2Collection GetBrokerCaCertificates()
    {
        if (BrokerCaCertificates is not null) return BrokerCaCertificates;
        if (string.IsNullOrWhiteSpace(BrokerCertChainPath))
            throw new DxlConfigException("no broker CA bundle is configured (set BrokerCertChain in [Certs])", ConfigFilePath, null, "BrokerCertChain");
        var path = ResolvePath(BrokerCertChainPath);
        lock (_cacheLock)
        {
            if (_caCache is { } c && c.Path == path) return c.Value;
            var loaded = DxlCertificates.LoadCaBundle(path);
            _caCache = (path, loaded);
            return loaded;
        }
    }

    /// <summary>
    /// The broker certificate validator for this config: <see cref="GetBrokerCaCertificates"/> as roots,
    /// <see cref="StrictHostNameCheck"/>, and the bundle's file named in its messages.
    /// </summary>
    public DxlServerCertificateValidator CreateServerCertificateValidator()
    {
        var roots = GetBrokerCaCertificates();
        var source = BrokerCaCertificates is null && !string.IsNullOrWhiteSpace(BrokerCertChainPath) ? ResolvePath(BrokerCertChainPath) : null;
        return new DxlServerCertificateValidator(roots, StrictHostNameCheck) { TrustedRootsSource = source };
    }

    /// <summary>
    /// The client certificate's file and issuer, for a message about a broker that refused it: the broker trusts
    /// only client certificates whose issuer it knows (on an ePO fabric, a CA imported into ePO or ePO's own).
    /// </summary>
    internal string DescribeClientCertificateForRefusal()
    {
        var file = ClientCertificate is null && !string.IsNullOrWhiteSpace(CertFilePath) ? ResolvePath(CertFilePath) : "the client certificate";
        string issuer;
        try { issuer = GetClientCertificate().Issuer; }
        catch (DxlConfigException) { return file; }
        return $"{file} (issued by {issuer}); the broker must trust that issuer (on ePO: a CA imported into ePO, or a certificate provisioned by ePO)";
    }

    public override string ToString() =>
        $"DxlClientConfig({ConfigFilePath ?? "in code"}; client id {ClientId}; brokers: {string.Join(", ", EffectiveBrokers)})";
}

/// <summary>
/// The dxlclient.config reader: INI as ConfigObj reads it for the keys the reference client uses. '#' starts a
/// comment (a whole line, or after whitespace following a value); ';' is data; one pair of quotes is stripped.
/// Sections and keys match case-insensitively; values keep their case.
/// </summary>
internal static class DxlConfigFileReader
{
    internal sealed record Entry(string Key, string Value, int Line);

    internal sealed class Section
    {
        public Section(string name, int line) { Name = name; Line = line; }
        public string Name { get; }
        public int Line { get; }
        public List<Entry> Entries { get; } = new();
        public Entry? Get(string key) => Entries.FirstOrDefault(e => e.Key.Equals(key, StringComparison.OrdinalIgnoreCase));
    }

    public static DxlClientConfig Read(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DxlConfigException("no configuration file path was given");
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new DxlConfigException("this is a folder, not a configuration file", full);
        if (!File.Exists(full)) throw new DxlConfigException("the configuration file does not exist", full);

        return Read(full, ReadLines(full));
    }

    internal static string[] ReadLines(string full)
    {
        try { return File.ReadAllLines(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DxlConfigException($"the configuration file cannot be read ({e.Message})", full, null, null, e);
        }
    }

    internal static DxlClientConfig Read(string full, string[] lines)
    {
        var sections = Parse(full, lines);
        var config = new DxlClientConfig { ConfigFilePath = full };
        if (sections.TryGetValue("General", out var general)) ReadGeneral(full, general, config);
        if (!sections.TryGetValue("Certs", out var certs))
            throw new DxlConfigException("the [Certs] section is missing; it must set BrokerCertChain, CertFile and PrivateKey", full);
        ReadCerts(full, certs, config);
        if (sections.TryGetValue("Brokers", out var brokers))
            foreach (var e in brokers.Entries)
                config.Brokers.Add(DxlBroker.Parse(e.Value, false, full, e.Line, e.Key));
        if (sections.TryGetValue("BrokersWebSockets", out var wsBrokers))
            foreach (var e in wsBrokers.Entries)
                config.WebSocketBrokers.Add(DxlBroker.Parse(e.Value, true, full, e.Line, e.Key));
        if (sections.TryGetValue("Proxy", out var proxy)) config.Proxy = ReadProxy(full, proxy);
        return config;
    }

    /// <summary>[General]: an empty value keeps the default; other keys are ignored, as the reference client ignores them.</summary>
    private static void ReadGeneral(string full, Section general, DxlClientConfig config)
    {
        foreach (var e in general.Entries)
        {
            if (e.Value.Length == 0) continue;
            switch (e.Key.ToLowerInvariant())
            {
                case "clientid":
                    config.ClientId = e.Value;
                    break;
                case "usewebsockets":
                    config.UseWebSockets = ParseBool(full, e);
                    break;
                case "keepalive":
                    config.KeepAliveSeconds = ParseInt(full, e, 0, 65535, "a number of seconds from 0 to 65535");
                    break;
                case "connectretries":
                    config.ConnectRetries = ParseInt(full, e, -1, int.MaxValue, "a whole number, -1 for unlimited");
                    break;
                case "stricthostnamecheck":
                    config.StrictHostNameCheck = ParseBool(full, e);
                    break;
            }
        }
    }

    /// <summary>[Certs]: the three files are required, relative paths are from the config's folder.</summary>
    private static void ReadCerts(string full, Section certs, DxlClientConfig config)
    {
        var dir = Path.GetDirectoryName(full)!;
        config.BrokerCertChainPath = RequiredPath(full, dir, certs, "BrokerCertChain");
        config.CertFilePath = RequiredPath(full, dir, certs, "CertFile");
        config.PrivateKeyPath = RequiredPath(full, dir, certs, "PrivateKey");
        var password = certs.Get("PrivateKeyPassword");
        if (password is not null && password.Value.Length > 0) config.PrivateKeyPassword = password.Value;
    }

    /// <summary>[Proxy]: null without an Address; an Address needs a valid Port.</summary>
    private static DxlProxy? ReadProxy(string full, Section proxy)
    {
        var address = proxy.Get("Address");
        if (address is null || address.Value.Length == 0) return null;
        var port = proxy.Get("Port");
        if (port is null || port.Value.Length == 0)
            throw new DxlConfigException("[Proxy] sets Address but no Port", full, address.Line, "Port");
        if (!DxlBroker.TryParsePort(port.Value, out var portNumber))
            throw new DxlConfigException($"the proxy port '{port.Value}' is not a number from 1 to 65535", full, port.Line, "Port");
        var user = proxy.Get("User")?.Value;
        var pass = proxy.Get("Password")?.Value;
        return new DxlProxy(address.Value, portNumber, string.IsNullOrEmpty(user) ? null : user, string.IsNullOrEmpty(pass) ? null : pass);
    }

    private static string RequiredPath(string file, string dir, Section certs, string key)
    {
        var e = certs.Get(key);
        if (e is null)
            throw new DxlConfigException($"[Certs] has no {key}; BrokerCertChain, CertFile and PrivateKey are all required", file, certs.Line, key);
        if (e.Value.Length == 0)
            throw new DxlConfigException($"[Certs] {key} is empty", file, e.Line, key);
        try
        {
            return Path.IsPathFullyQualified(e.Value) ? e.Value : Path.GetFullPath(e.Value, dir);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new DxlConfigException($"'{e.Value}' is not a valid path", file, e.Line, key, ex);
        }
    }

    private static bool ParseBool(string file, Entry e)
    {
        switch (e.Value.Trim().ToLowerInvariant())
        {
            case "yes": case "on": case "true": case "1": return true;
            case "no": case "off": case "false": case "0": return false;
            default:
                throw new DxlConfigException($"'{e.Value}' is not a boolean; use yes/no, on/off, true/false or 1/0", file, e.Line, e.Key);
        }
    }

    private static int ParseInt(string file, Entry e, int min, int max, string expected)
    {
        if (int.TryParse(e.Value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
            return v;
        throw new DxlConfigException($"'{e.Value}' is not {expected}", file, e.Line, e.Key);
    }

    /// <summary>Sections by name (case-insensitive), each with its header line and its entries' lines (1-based).</summary>
    internal static Dictionary<string, Section> Parse(string file, string[] lines)
    {
        var sections = new Dictionary<string, Section>(StringComparer.OrdinalIgnoreCase);
        Section? current = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNo = i + 1;
            var line = lines[i].Trim();
            if (i == 0) line = line.TrimStart('\uFEFF');
            if (line.Length == 0 || line[0] == '#') continue;

            if (line[0] == '[')
            {
                var close = line.IndexOf(']');
                var after = close < 0 ? "" : line[(close + 1)..].Trim();
                if (close < 0 || (after.Length > 0 && after[0] != '#'))
                    throw new DxlConfigException($"'{Shorten(line)}' is not a [section] header", file, lineNo);
                var name = line[1..close].Trim();
                if (name.Length == 0 || name.Contains('['))
                    throw new DxlConfigException($"'{Shorten(line)}' is not a [section] header", file, lineNo);
                if (sections.TryGetValue(name, out var existing))
                    throw new DxlConfigException($"the section [{name}] appears twice (first on line {existing.Line})", file, lineNo);
                current = new Section(name, lineNo);
                sections.Add(name, current);
                continue;
            }

            var eq = line.IndexOf('=');
            if (eq <= 0)
                throw new DxlConfigException(eq == 0 ? "the line has '=' but no key before it" : "the line is neither 'key=value' nor a [section] header", file, lineNo);
            var key = line[..eq].Trim();
            if (current is null)
                throw new DxlConfigException($"the setting '{key}' comes before any [section] header", file, lineNo, key);
            var value = ParseValue(file, lineNo, key, line[(eq + 1)..]);
            var dup = current.Get(key);
            if (dup is not null)
                throw new DxlConfigException($"'{key}' is set twice in [{current.Name}] (first on line {dup.Line})", file, lineNo, key);
            current.Entries.Add(new Entry(key, value, lineNo));
        }
        return sections;
    }

    /// <summary>The value after '=': quotes stripped, a trailing '#' comment (after whitespace) removed.</summary>
    private static string ParseValue(string file, int lineNo, string key, string raw)
    {
        var text = raw.Trim();
        if (text.Length == 0 || text[0] == '#') return "";
        if (text[0] is '"' or '\'')
        {
            var quote = text[0];
            var close = text.IndexOf(quote, 1);
            if (close < 0)
                throw new DxlConfigException($"the value of '{key}' opens a quote ({quote}) that is not closed", file, lineNo, key);
            var rest = text[(close + 1)..].Trim();
            if (rest.Length > 0 && rest[0] != '#')
                throw new DxlConfigException($"the value of '{key}' has text after its closing quote", file, lineNo, key);
            return text[1..close];
        }
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == '#' && char.IsWhiteSpace(text[i - 1])) return text[..i].TrimEnd();
        }
        return text;
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
