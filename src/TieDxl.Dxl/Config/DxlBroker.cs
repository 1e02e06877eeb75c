using System.Globalization;

namespace TieDxl.Dxl.Config;

/// <summary>
/// One broker as the config describes it: <c>id;port;host[;ip]</c> or <c>port;host[;ip]</c>, or the URL form
/// <c>[ssl://|wss://]host[:port]</c>.
/// </summary>
public sealed record DxlBroker(string? Id, string Host, int Port, string? IpAddress = null, bool IsWebSocket = false)
{
    public const int DefaultMqttPort = 8883;
    public const int DefaultWebSocketPort = 443;

    /// <summary>Parses a broker line value from a config file. Throws <see cref="DxlConfigException"/>.</summary>
    public static DxlBroker Parse(string value, bool webSocket = false) => Parse(value, webSocket, null, null, null);

    /// <summary>Parses <c>[ssl://|wss://]host[:port]</c> (IPv6 in brackets).</summary>
    public static DxlBroker ParseUrl(string url)
    {
        if (url is null) throw new DxlConfigException("a broker URL is required");
        var text = url.Trim();
        var webSocket = false;
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            var scheme = text[..schemeEnd];
            if (scheme.Equals("wss", StringComparison.OrdinalIgnoreCase)) webSocket = true;
            else if (!scheme.Equals("ssl", StringComparison.OrdinalIgnoreCase))
                throw new DxlConfigException($"the broker URL '{text}' has the scheme '{scheme}'; use ssl:// or wss://");
            text = text[(schemeEnd + 3)..];
        }
        if (text.Contains('/'))
            throw new DxlConfigException($"the broker URL '{url.Trim()}' has a path; use [ssl://|wss://]host[:port]");

        string host;
        string? portText = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0) throw new DxlConfigException($"the broker URL '{url.Trim()}' has '[' without ']'");
            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':') throw new DxlConfigException($"the broker URL '{url.Trim()}' has text after ']' that is not ':port'");
                portText = rest[1..];
            }
        }
        else
        {
            var colons = text.Count(c => c == ':');
            if (colons == 1)
            {
                var i = text.IndexOf(':');
                host = text[..i];
                portText = text[(i + 1)..];
            }
            else
            {
                // No colon, or a bare IPv6 address (several colons): no port.
                host = text;
            }
        }

        host = host.Trim();
        if (host.Length == 0) throw new DxlConfigException($"the broker URL '{url.Trim()}' has no host name");
        var port = webSocket ? DefaultWebSocketPort : DefaultMqttPort;
        if (portText is not null && !TryParsePort(portText, out port))
            throw new DxlConfigException($"the broker URL '{url.Trim()}' has the port '{portText.Trim()}'; a port is a number from 1 to 65535");
        return new DxlBroker(null, host, port, null, webSocket);
    }

    /// <summary>Parses a broker line value, naming the file, line and setting in errors.</summary>
    internal static DxlBroker Parse(string value, bool webSocket, string? file, int? line, string? setting)
    {
        if (value is null) throw new DxlConfigException("the broker line is empty", file, line, setting);
        var fields = value.Split(';').Select(f => f.Trim()).ToArray();
        if (fields.Length < 2)
            throw new DxlConfigException($"the broker line '{value.Trim()}' has fewer than two ';'-separated fields; expected id;port;host[;ip] or port;host[;ip]", file, line, setting);

        // port;host[;ip] when the first field is a port. "1;8883;host" stays id;port;host: a numeric id followed by
        // a port is far likelier than a host whose name is a number.
        var portFirst = TryParsePort(fields[0], out _) && !(fields.Length >= 3 && TryParsePort(fields[1], out _));
        string? id;
        string portText;
        string[] rest;
        if (portFirst)
        {
            id = null;
            portText = fields[0];
            rest = fields[1..];
        }
        else
        {
            id = fields[0].Length == 0 ? null : fields[0];
            portText = fields[1];
            rest = fields[2..];
        }

        if (rest.Length > 2)
            throw new DxlConfigException($"the broker line '{value.Trim()}' has too many fields; expected id;port;host[;ip] or port;host[;ip]", file, line, setting);
        if (!TryParsePort(portText, out var port))
            throw new DxlConfigException($"the broker line '{value.Trim()}' has the port '{portText}'; a port is a number from 1 to 65535", file, line, setting);
        var host = rest.Length > 0 ? StripBrackets(rest[0]) : "";
        if (host.Length == 0)
            throw new DxlConfigException($"the broker line '{value.Trim()}' has no host name", file, line, setting);
        var ip = rest.Length > 1 ? StripBrackets(rest[1]) : "";
        return new DxlBroker(id, host, port, ip.Length == 0 ? null : ip, webSocket);
    }

    internal static bool TryParsePort(string text, out int port)
    {
        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535)
            return true;
        port = 0;
        return false;
    }

    private static string StripBrackets(string s)
    {
        s = s.Trim();
        if (s.StartsWith('[')) s = s[1..];
        if (s.EndsWith(']')) s = s[..^1];
        return s.Trim();
    }

    /// <summary>The value of this broker's config line: <c>id;port;host[;ip]</c> (<c>port;host[;ip]</c> without an id).</summary>
    public string ToConfigValue() =>
        (Id is null ? "" : Id + ";") + Port.ToString(CultureInfo.InvariantCulture) + ";" + Host + (IpAddress is null ? "" : ";" + IpAddress);

    public override string ToString() => $"{(IsWebSocket ? "wss" : "ssl")}://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}";
}
