using System.Text;
using TieDxl.Dxl.Messages;

namespace TieDxl;

/// <summary>A DXL event as Receive-DxlEvent emits it.</summary>
public sealed class DxlEventMessage
{
    internal DxlEventMessage(DxlEvent e, DateTimeOffset receivedAt, string subscription)
    {
        Topic = e.DestinationTopic;
        Subscription = subscription;
        PayloadBytes = e.Payload ?? Array.Empty<byte>();
        MessageId = e.MessageId ?? "";
        SourceClientId = string.IsNullOrEmpty(e.SourceClientInstanceId) ? e.SourceClientId ?? "" : e.SourceClientInstanceId!;
        SourceBrokerId = e.SourceBrokerId ?? "";
        SourceTenantGuid = e.SourceTenantGuid ?? "";
        Version = e.Version;
        ReceivedAt = receivedAt;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in e.OtherFields) fields[kv.Key] = kv.Value;
        OtherFields = fields;
    }

    /// <summary>The topic the event was published to.</summary>
    public string Topic { get; }

    /// <summary>The -Topic subscription that matched (differs from <see cref="Topic"/> for wildcards).</summary>
    public string Subscription { get; }

    /// <summary>The payload decoded as UTF-8 text.</summary>
    public string Payload => Encoding.UTF8.GetString(PayloadBytes);

    /// <summary>The payload bytes as received.</summary>
    public byte[] PayloadBytes { get; }

    public string MessageId { get; }

    /// <summary>The sending client (instance id when the envelope has one).</summary>
    public string SourceClientId { get; }

    public string SourceBrokerId { get; }

    public string SourceTenantGuid { get; }

    /// <summary>Envelope version.</summary>
    public int Version { get; }

    /// <summary>The envelope's other_fields.</summary>
    public IReadOnlyDictionary<string, string> OtherFields { get; }

    /// <summary>Local time the event was taken off the connection.</summary>
    public DateTimeOffset ReceivedAt { get; }

    public override string ToString() => $"{Topic}: {Payload}";
}
