namespace TieDxl.Dxl.Messages;

/// <summary>The four DXL message types, with their wire codes.</summary>
public enum DxlMessageType
{
    Request = 0,
    Response = 1,
    Event = 2,
    ErrorResponse = 3,
}

/// <summary>
/// A DXL message: the fields of the msgpack envelope. The MQTT topic is not part of
/// the envelope; <see cref="DestinationTopic"/> carries it beside the message.
/// </summary>
public abstract class DxlMessage
{
    /// <summary>The envelope version the Python client sends; the broker re-stamps everything as 3.</summary>
    public const int DefaultVersion = 2;

    public abstract DxlMessageType MessageType { get; }

    /// <summary>Envelope version read from the wire (decoded messages) or to write (encoded messages).</summary>
    public int Version { get; set; } = DefaultVersion;

    /// <summary>
    /// The message id. A new message gets a fresh id on first read; decoded messages carry the wire value.
    /// (Generated lazily: creating a GUID costs a system call, which the decoder would pay for nothing.)
    /// </summary>
    public string? MessageId
    {
        get
        {
            var id = Volatile.Read(ref _messageId);
            if (!ReferenceEquals(id, UnsetId)) return id;
            Interlocked.CompareExchange(ref _messageId, NewId(), UnsetId);
            return Volatile.Read(ref _messageId);
        }
        set => Volatile.Write(ref _messageId, value);
    }

    // A private instance, compared by reference, marks "no id yet" (null is a legal value: msgpack nil).
    private static readonly string UnsetId = new('\0', 1);
    private string? _messageId = UnsetId;
    public string? SourceClientId { get; set; } = "";
    public string? SourceBrokerId { get; set; } = "";

    // The lists are made on first read: most messages carry few or none of them, and the decoder fills only those
    // present on the wire.
    private IList<string>? _brokerIds, _clientIds, _destinationTenantGuids;
    private IList<KeyValuePair<string, string>>? _otherFields;

    // For the codec: the lists as they are, null when never made (written as empty lists).
    internal IList<string>? BrokerIdsOrNull => _brokerIds;
    internal IList<string>? ClientIdsOrNull => _clientIds;
    internal IList<string>? DestinationTenantGuidsOrNull => _destinationTenantGuids;
    internal IList<KeyValuePair<string, string>>? OtherFieldsOrNull => _otherFields;

    public IList<string> BrokerIds { get => _brokerIds ??= new List<string>(); set => _brokerIds = value; }
    public IList<string> ClientIds { get => _clientIds ??= new List<string>(); set => _clientIds = value; }

    private byte[]? _payload = Array.Empty<byte>();
    private ReadOnlyMemory<byte> _payloadMemory;
    private bool _payloadShared;

    /// <summary>Opaque payload bytes (JSON text for TIE). Never decoded by the envelope codec.</summary>
    /// <remarks>
    /// A message decoded by <see cref="DxlEnvelope.DecodeSharing"/> refers to the received bytes and makes this
    /// array on first read; <see cref="PayloadMemory"/> reads the same bytes without it.
    /// </remarks>
    public byte[] Payload
    {
        get
        {
            if (Volatile.Read(ref _payloadShared))
            {
                // Two threads reading at once each copy the same bytes; either copy will do.
                _payload = _payloadMemory.ToArray();
                Volatile.Write(ref _payloadShared, false);
            }
            return _payload!;
        }
        set
        {
            _payload = value;
            _payloadMemory = value;
            _payloadShared = false;
        }
    }

    /// <summary>The payload bytes, without making an array of them.</summary>
    public ReadOnlyMemory<byte> PayloadMemory => _payloadMemory;

    /// <summary>Refers to <paramref name="payload"/> (part of a buffer nobody writes again) instead of a copy of it.</summary>
    internal void SharePayload(ReadOnlyMemory<byte> payload)
    {
        _payloadMemory = payload;
        _payload = null;
        _payloadShared = true;
    }

    /// <summary>Version 1+: string pairs in wire order. Order is not significant end to end.</summary>
    public IList<KeyValuePair<string, string>> OtherFields { get => _otherFields ??= new List<KeyValuePair<string, string>>(); set => _otherFields = value; }

    /// <summary>Version 2+.</summary>
    public string? SourceTenantGuid { get; set; } = "";

    /// <summary>Version 2+.</summary>
    public IList<string> DestinationTenantGuids { get => _destinationTenantGuids ??= new List<string>(); set => _destinationTenantGuids = value; }

    /// <summary>Version 3+; consumers fall back to <see cref="SourceClientId"/> when empty.</summary>
    public string? SourceClientInstanceId { get; set; } = "";

    /// <summary>The MQTT topic the message was published to or arrived on (not on the wire).</summary>
    public string DestinationTopic { get; set; } = "";

    /// <summary>A DXL identifier: "{" + lower-case UUIDv4 + "}".</summary>
    public static string NewId() =>
        // Formatted straight into the one string (a concatenation would make the GUID's string first).
        string.Create(38, Guid.NewGuid(), static (chars, guid) =>
        {
            chars[0] = '{';
            guid.TryFormat(chars[1..], out _, "D");
            chars[37] = '}';
        });

    /// <summary>The payload as UTF-8 text (for logs and JSON).</summary>
    public string PayloadText => System.Text.Encoding.UTF8.GetString(PayloadMemory.Span);
}

/// <summary>A request (type 0): answered on <see cref="ReplyToTopic"/> by one service instance.</summary>
public sealed class DxlRequest : DxlMessage
{
    public DxlRequest() { }

    public DxlRequest(string topic, byte[]? payload = null)
    {
        DestinationTopic = topic;
        Payload = payload ?? Array.Empty<byte>();
    }

    public override DxlMessageType MessageType => DxlMessageType.Request;
    public string? ReplyToTopic { get; set; } = "";
    public string? ServiceId { get; set; } = "";

    /// <summary>Experimental version 4 only (unmerged broker branch). Null when absent.</summary>
    public bool? MultiService { get; set; }

    /// <summary>
    /// Not on the wire. True when sending the request twice has the same effect as sending it once (a lookup, a
    /// "set to this value"): the client may then send it again when its answer was lost with the connection or
    /// went missing right after a reconnect, within the request's timeout. The caller knows the semantics; the
    /// DXL layer does not.
    /// </summary>
    public bool IsIdempotent { get; set; }
}

/// <summary>A response (type 1) to the request whose message id is <see cref="RequestMessageId"/>.</summary>
public class DxlResponse : DxlMessage
{
    public DxlResponse() { }

    /// <summary>Builds a response routed back to the requester (Java/broker style: instance id first).</summary>
    public DxlResponse(DxlRequest request, byte[]? payload = null)
    {
        DestinationTopic = request.ReplyToTopic ?? "";
        RequestMessageId = request.MessageId;
        ServiceId = request.ServiceId;
        var target = string.IsNullOrEmpty(request.SourceClientInstanceId) ? request.SourceClientId : request.SourceClientInstanceId;
        if (!string.IsNullOrEmpty(target)) ClientIds.Add(target);
        if (!string.IsNullOrEmpty(request.SourceBrokerId)) BrokerIds.Add(request.SourceBrokerId);
        Payload = payload ?? Array.Empty<byte>();
    }

    public override DxlMessageType MessageType => DxlMessageType.Response;
    public string? RequestMessageId { get; set; } = "";
    public string? ServiceId { get; set; } = "";
}

/// <summary>An error response (type 3). Fabric codes have bit 31 set (see <see cref="DxlErrorCodes"/>).</summary>
public sealed class DxlErrorResponse : DxlResponse
{
    public DxlErrorResponse() { }

    public DxlErrorResponse(DxlRequest request, long errorCode, string errorMessage) : base(request)
    {
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    public override DxlMessageType MessageType => DxlMessageType.ErrorResponse;

    /// <summary>
    /// The code as it is (or will be) encoded: 2147483649 packs as uint32 (Python), -2147483647 as int32
    /// (broker, Java). Use <see cref="Code"/> to compare.
    /// </summary>
    public long ErrorCode { get; set; }

    /// <summary>The code normalised to 32 bits.</summary>
    public uint Code => unchecked((uint)ErrorCode);

    public string? ErrorMessage { get; set; } = "";
}

/// <summary>An event (type 2): delivered to every subscriber, no acknowledgement.</summary>
public sealed class DxlEvent : DxlMessage
{
    public DxlEvent() { }

    public DxlEvent(string topic, byte[]? payload = null)
    {
        DestinationTopic = topic;
        Payload = payload ?? Array.Empty<byte>();
    }

    public override DxlMessageType MessageType => DxlMessageType.Event;

    /// <summary>
    /// Not on the wire. True when receiving the event twice has the same effect as receiving it once (a "set to this
    /// value"): the client may then publish it again when it went out across a reconnect, and after an outage when
    /// the broker confirmed it shortly before (a broker that crashes loses what it had not passed on). See
    /// <see cref="Client.DxlDeliveryPolicy"/>.
    /// </summary>
    public bool IsIdempotent { get; set; }
}

/// <summary>Fabric error codes (bit 31 set) and their exact texts as the broker sends them.</summary>
public static class DxlErrorCodes
{
    public const uint ServiceNotFound = 0x80000001;
    public const uint ServiceOverloaded = 0x80000002;
    public const uint ResponseTimeout = 0x80000003;
    public const uint ServiceLimitExceeded = 0x80000011;
    public const uint SubscriptionLimitExceeded = 0x80000012;

    public const string ServiceNotFoundMessage = "unable to locate service for request";
    public const string ServiceOverloadedMessage = "service is overloaded";
}
