using TieDxl.Dxl.Config;

namespace TieDxl.Dxl.Client;

/// <summary>
/// One outage of a client's connection: from the moment the connection was lost (or found dead) to the reconnect.
/// Events published on the fabric in that window were not received by this client.
/// </summary>
public sealed record DxlOutage(
    DateTimeOffset DisconnectedAt,
    DateTimeOffset ReconnectedAt,
    string Reason,
    DxlBroker? LostBroker,
    DxlBroker ReconnectedBroker,
    IReadOnlyList<string> BrokersTried)
{
    public TimeSpan Duration => ReconnectedAt - DisconnectedAt;
}
