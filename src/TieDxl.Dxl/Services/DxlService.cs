using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Services;

/// <summary>
/// Answers one request. Return a <see cref="DxlResponse"/> (or <see cref="DxlErrorResponse"/>) built from the
/// request, or null to send nothing. An exception becomes an error response with code 0 and its message.
/// </summary>
public delegate ValueTask<DxlResponse?> DxlRequestHandler(DxlRequest request, CancellationToken cancellationToken);

/// <summary>A service a client hosts on the fabric: a type, an instance GUID and handlers per request topic.</summary>
public sealed class DxlService
{
    public DxlService(string serviceType, string? serviceGuid = null)
    {
        ServiceType = serviceType;
        ServiceGuid = serviceGuid ?? DxlMessage.NewId();
    }

    public string ServiceType { get; }
    public string ServiceGuid { get; }
    public Dictionary<string, string> Metadata { get; } = new();
    public TimeSpan Ttl { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>Request topic → handler. Set before registering.</summary>
    public Dictionary<string, DxlRequestHandler> Handlers { get; } = new(StringComparer.Ordinal);

    public DxlService AddHandler(string topic, DxlRequestHandler handler)
    {
        Handlers[topic] = handler;
        return this;
    }
}
