using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace TieDxl.Fabric.Broker;

/// <summary>What the broker knows about one client connection.</summary>
public sealed class DxlConnection
{
    internal DxlConnection(X509Certificate2 certificate, IReadOnlyList<string> chainThumbprints, EndPoint? remoteEndPoint)
    {
        Certificate = certificate;
        CanonicalId = Thumbprint(certificate);
        InstanceId = CanonicalId + ":" + Guid.NewGuid().ToString("D");
        ChainThumbprints = chainThumbprints;
        DxlCerts = string.Join(";", chainThumbprints);
        RemoteEndPoint = remoteEndPoint;
    }

    /// <summary>Lower-case SHA-1 thumbprint of the client certificate.</summary>
    public string CanonicalId { get; }

    /// <summary>The MQTT topic filters this connection is subscribed to (broker/subs and topicquery count them).</summary>
    internal ConcurrentDictionary<string, byte> Subscriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>"&lt;thumbprint&gt;:&lt;uuid&gt;", also used as the MQTT client id inside the broker.</summary>
    public string InstanceId { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>Thumbprints of the verified chain, root first, leaf last.</summary>
    public IReadOnlyList<string> ChainThumbprints { get; }

    /// <summary>The dxl.certs other-field value (';'-separated chain thumbprints).</summary>
    internal string DxlCerts { get; }

    public EndPoint? RemoteEndPoint { get; }

    public static string Thumbprint(X509Certificate2 certificate) =>
        Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA1)).ToLowerInvariant();

    /// <summary>The canonical id part of an instance id (or the id itself when it has no ':').</summary>
    internal static ReadOnlySpan<char> CanonicalOf(string instanceId)
    {
        int colon = instanceId.IndexOf(':');
        return colon < 0 ? instanceId.AsSpan() : instanceId.AsSpan(0, colon);
    }
}
