using System.Net;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Fabric.Pki;

namespace TieDxl.Fabric.Broker;

/// <summary>Settings of an embedded <see cref="DxlFabricBroker"/>.</summary>
public sealed class DxlFabricBrokerOptions
{
    /// <summary>The broker's TLS certificate, with its private key.</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>Intermediates sent with the server certificate (optional).</summary>
    public X509Certificate2Collection ServerCertificateChain { get; set; } = new();

    /// <summary>
    /// The CAs client certificates must chain to (the fabric's client CA bundle). Self-signed entries are trust
    /// anchors, the others intermediates. A client whose certificate does not chain to one of them is refused.
    /// </summary>
    public X509Certificate2Collection ClientCertificateAuthorities { get; set; } = new();

    /// <summary>Loopback by default: the embedded broker is for demos and tests.</summary>
    public IPAddress BindAddress { get; set; } = IPAddress.Loopback;

    /// <summary>0 picks a free port; read <see cref="DxlFabricBroker.Port"/> after start.</summary>
    public int Port { get; set; }

    /// <summary>The broker GUID stamped as source_broker_id. Default: a new bare lower-case UUID (as the Docker image).</summary>
    public string? BrokerGuid { get; set; }

    /// <summary>Host name reported by brokerregistry/query.</summary>
    public string HostName { get; set; } = "localhost";

    /// <summary>
    /// Socket send/receive buffers. Small (8 KB) buffers stall a connection with many requests in flight, so the
    /// default is generous.
    /// </summary>
    public int SocketBufferSize { get; set; } = 256 * 1024;

    /// <summary>Largest PUBLISH payload accepted; larger ones are dropped silently (broker messageSizeLimit).</summary>
    public int MessageSizeLimit { get; set; } = 1024 * 1024;

    /// <summary>Grace added to a service's ttlMins before it counts as expired (broker ttlGraceMins).</summary>
    public TimeSpan ServiceTtlGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time source for service TTLs and registration times (tests can move it forward).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Limit for the TLS handshake and CONNECT of a new connection.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Queued outgoing messages per connection before the oldest are dropped.</summary>
    public int MaxPendingMessagesPerClient { get; set; } = 100_000;

    /// <summary>
    /// Topic filters no client may subscribe to: the SUBACK refuses them, as a fabric whose topic authorization
    /// denies a client receiving those events would.
    /// </summary>
    public IReadOnlyCollection<string> DeniedSubscriptions { get; set; } = Array.Empty<string>();

    /// <summary>Options for a broker serving <paramref name="pki"/>'s broker certificate and trusting its CA for clients.</summary>
    public static DxlFabricBrokerOptions ForTestPki(DxlTestPki pki, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(pki);
        return new DxlFabricBrokerOptions
        {
            ServerCertificate = pki.Broker.Certificate,
            ClientCertificateAuthorities = pki.CaCertificates,
            Port = port,
        };
    }
}
