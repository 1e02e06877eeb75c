namespace TieDxl.Dxl.Config;

/// <summary>
/// One broker as the config describes it: <c>id;port;host[;ip]</c> or <c>port;host[;ip]</c>, or the URL form
/// <c>[ssl://|wss://]host[:port]</c> (shared spec §4.2).
/// </summary>
public sealed record DxlBroker(string? Id, string Host, int Port, string? IpAddress = null, bool IsWebSocket = false)
{
    public const int DefaultMqttPort = 8883;
    public const int DefaultWebSocketPort = 443;

    /// <summary>Parses a broker line value from a config file. Throws <see cref="DxlConfigException"/>.</summary>
    public static DxlBroker Parse(string value, bool webSocket = false) => throw new NotImplementedException();

    /// <summary>Parses <c>[ssl://|wss://]host[:port]</c> (IPv6 in brackets).</summary>
    public static DxlBroker ParseUrl(string url) => throw new NotImplementedException();

    public override string ToString() => $"{(IsWebSocket ? "wss" : "ssl")}://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}";
}
