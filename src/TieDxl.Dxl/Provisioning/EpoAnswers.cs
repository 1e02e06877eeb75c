using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Tls;

namespace TieDxl.Dxl.Provisioning;

/// <summary>What ePO's provisioning command returns: the CA bundle, the signed client certificate and the brokers.</summary>
public sealed record DxlProvisioningPackage(
    string CaBundlePem,
    string CertificatePem,
    IReadOnlyList<DxlBroker> Brokers,
    IReadOnlyList<DxlBroker> WebSocketBrokers);

/// <summary>ePO's current broker list (<c>DxlClientMgmt.getBrokerList</c>).</summary>
public sealed record EpoBrokerList(IReadOnlyList<DxlBroker> Brokers, IReadOnlyList<DxlBroker> WebSocketBrokers, int? CertVersion);

/// <summary>The one outcome of an ePO answer body: the JSON after <c>OK:</c>, or ePO's error.</summary>
public sealed record EpoAnswer(string? Json, int? ErrorCode, string? ErrorText)
{
    public bool IsOk => Json is not null;
}

/// <summary>
/// Parses the bodies of ePO's remote commands. A body is <c>OK:</c> followed by JSON, or <c>Error {n}: {text}</c>;
/// the status word is everything before the first ':' and success is exactly <c>OK</c>. Malformed input raises <see cref="FormatException"/> (or
/// <see cref="DxlConfigException"/> for a bad broker line), which <see cref="EpoClient"/> reports as
/// <see cref="EpoAnswerException"/>.
/// </summary>
public static partial class EpoAnswers
{
    [GeneratedRegex(@"^Error\s+(-?\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ErrorStatus();

    /// <summary>The body's outcome, or null when it is neither an <c>OK:</c> nor an <c>Error n:</c> body (so not ePO).</summary>
    public static EpoAnswer? Classify(string body)
    {
        var colon = body.IndexOf(':');
        if (colon < 0) return null;
        var status = body[..colon];
        var rest = body[(colon + 1)..].Trim();
        // Exactly "OK", as the reference clients compare it: " OK" is not success.
        if (status == "OK") return new EpoAnswer(rest, null, null);
        var error = ErrorStatus().Match(status.Trim());
        if (!error.Success || !int.TryParse(error.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code))
            return null;
        return new EpoAnswer(null, code, rest);
    }

    /// <summary>
    /// True when ePO's error text says the user lacks the right to run the command. ePO reports this as an
    /// <c>Error n:</c> body whose wording differs between versions, so the text is matched, not the number.
    /// </summary>
    public static bool IsPermissionError(string epoText) =>
        PermissionWords.Any(w => epoText.Contains(w, StringComparison.OrdinalIgnoreCase));

    private static readonly string[] PermissionWords = { "permission", "not authorized", "unauthorized", "privilege", "access denied", "not allowed" };

    /// <summary>A JSON value that must be a string (ePO's answers to the three commands are).</summary>
    public static string DecodeJsonString(string json, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.String)
                throw new FormatException($"{what} is JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}, expected a string");
            return doc.RootElement.GetString()!;
        }
        catch (JsonException e)
        {
            throw new FormatException($"{what} is not JSON ({e.Message})", e);
        }
    }

    /// <summary>
    /// The provisioning command's decoded string: comma-separated CA bundle, client certificate, MQTT broker lines
    /// and (optionally) WebSocket broker lines. Every PEM block is checked to be a certificate.
    /// </summary>
    public static DxlProvisioningPackage ParseProvisioningPackage(string decoded)
    {
        var parts = decoded.Split(',');
        if (parts.Length < 3)
            throw new FormatException($"the provisioning package has {parts.Length} comma-separated part(s); expected the CA bundle, the client certificate and the broker list");
        var caBundle = parts[0];
        var certificate = parts[1];
        ParseCertificates(caBundle, "the CA bundle");
        var certificates = ParseCertificates(certificate, "the client certificate");
        if (certificates.Count != 1)
            throw new FormatException($"the client certificate part holds {certificates.Count} certificates; expected one");
        var brokers = ParseBrokerLines(parts[2], webSocket: false, "the broker list");
        var webSocketBrokers = parts.Length > 3 ? ParseBrokerLines(parts[3], webSocket: true, "the WebSocket broker list") : Array.Empty<DxlBroker>();
        return new DxlProvisioningPackage(caBundle, certificate, brokers, webSocketBrokers);
    }

    /// <summary>
    /// Broker lines <c>{guid}={guid};port;host[;ip]</c>, one a line (LF or CRLF, empty lines skipped). The key before
    /// '=' must equal the first field.
    /// </summary>
    public static IReadOnlyList<DxlBroker> ParseBrokerLines(string text, bool webSocket, string what)
    {
        var brokers = new List<DxlBroker>();
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0) continue;
            var eq = line.IndexOf('=');
            if (eq <= 0) throw new FormatException($"line {lineNo} of {what} ('{Shorten(line)}') is not {{id}}={{id}};port;host[;ip]");
            brokers.Add(ParseBrokerEntry(line[..eq].Trim(), line[(eq + 1)..].Trim(), webSocket, null, lineNo));
        }
        return brokers;
    }

    /// <summary>One broker entry whose key must equal the id field. Throws <see cref="DxlConfigException"/>.</summary>
    internal static DxlBroker ParseBrokerEntry(string key, string value, bool webSocket, string? file, int line)
    {
        var broker = DxlBroker.Parse(value, webSocket, file, line, key);
        if (!string.Equals(broker.Id, key, StringComparison.Ordinal))
            throw new DxlConfigException($"the broker key '{key}' differs from the broker id '{broker.Id ?? "(none)"}' in its value", file, line, key);
        return broker;
    }

    /// <summary>
    /// The broker list: a JSON string holding JSON (double-encoded) with <c>brokers</c> and optionally
    /// <c>webSocketBrokers</c>, each <c>{guid, hostName, ipAddress, port}</c>; a port is a number or a string.
    /// </summary>
    public static EpoBrokerList ParseBrokerList(string decoded)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(decoded); }
        catch (JsonException e) { throw new FormatException($"the broker list is not JSON once decoded ({e.Message})", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the broker list is not a JSON object once decoded");
            if (!root.TryGetProperty("brokers", out var brokers) || brokers.ValueKind != JsonValueKind.Array)
                throw new FormatException("the broker list has no 'brokers' array");
            var ws = root.TryGetProperty("webSocketBrokers", out var w) && w.ValueKind == JsonValueKind.Array ? ReadBrokers(w, true) : Array.Empty<DxlBroker>();
            int? certVersion = root.TryGetProperty("certVersion", out var cv) && cv.ValueKind == JsonValueKind.Number && cv.TryGetInt32(out var v) ? v : null;
            return new EpoBrokerList(ReadBrokers(brokers, false), ws, certVersion);
        }
    }

    private static DxlBroker[] ReadBrokers(JsonElement array, bool webSocket)
    {
        var result = new List<DxlBroker>();
        var index = 0;
        foreach (var b in array.EnumerateArray())
        {
            index++;
            var where = $"broker #{index} of the {(webSocket ? "WebSocket " : "")}broker list";
            if (b.ValueKind != JsonValueKind.Object) throw new FormatException($"{where} is not an object");
            var guid = Text(b, "guid", where, required: true)!;
            var host = Text(b, "hostName", where, required: true)!;
            var ip = Text(b, "ipAddress", where, required: false);
            if (!b.TryGetProperty("port", out var p)) throw new FormatException($"{where} has no 'port'");
            var portText = p.ValueKind switch
            {
                JsonValueKind.Number => p.GetRawText(),
                JsonValueKind.String => p.GetString()!,
                _ => throw new FormatException($"{where} has a port that is neither a number nor a string"),
            };
            if (!DxlBroker.TryParsePort(portText, out var port)) throw new FormatException($"{where} has the port '{portText}'; a port is a number from 1 to 65535");
            result.Add(new DxlBroker(guid, host, port, string.IsNullOrEmpty(ip) ? null : ip, webSocket));
        }
        return result.ToArray();
    }

    private static string? Text(JsonElement o, string name, string where, bool required)
    {
        if (o.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } s) return s.Trim();
        if (required) throw new FormatException($"{where} has no '{name}'");
        return null;
    }

    /// <summary>Every PEM block of <paramref name="pem"/>, each required to be an X.509 certificate; at least one.</summary>
    public static X509Certificate2Collection ParseCertificates(string pem, string what)
    {
        var result = new X509Certificate2Collection();
        List<(string Label, byte[] Der)> blocks;
        try { blocks = DxlCertificates.PemBlocks(pem).ToList(); }
        catch (FormatException e) { throw new FormatException($"{what} is not valid PEM", e); }
        foreach (var (label, der) in blocks)
        {
            if (label != "CERTIFICATE") throw new FormatException($"{what} holds a '{label}' block; only certificates are expected");
            try { result.Add(new X509Certificate2(der)); }
            catch (CryptographicException e) { throw new FormatException($"certificate #{result.Count + 1} of {what} is not a valid X.509 certificate", e); }
        }
        if (result.Count == 0) throw new FormatException($"{what} holds no PEM certificate");
        return result;
    }

    internal static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
