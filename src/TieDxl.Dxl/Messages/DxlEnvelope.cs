using System.Buffers;
using System.Text;
using MessagePack;

namespace TieDxl.Dxl.Messages;

/// <summary>
/// Encodes and decodes the DXL msgpack envelope: a plain sequence of msgpack items,
/// old-spec string family only (fixstr/str16/str32, never str8 or bin) so the OpenDXL broker accepts it.
/// </summary>
public static class DxlEnvelope
{
    /// <summary>Highest envelope version this codec writes (4 is the experimental multi-service layout).</summary>
    public const int MaxEncodeVersion = 4;

    // Encode scratch buffer per thread: the hot path then allocates only the final byte[].
    [ThreadStatic] private static ArrayBufferWriter<byte>? s_scratch;

    // Scratch buffers that grew past this are dropped so one huge message does not pin memory forever.
    private const int MaxRetainedScratch = 256 * 1024;

    // Invalid UTF-8 becomes U+FFFD rather than an error: ids and topics are compared as text anyway.
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Encodes <paramref name="message"/> at <paramref name="version"/> (default: the message's own).</summary>
    public static byte[] Encode(DxlMessage message, int? version = null)
    {
        var buffer = s_scratch ??= new ArrayBufferWriter<byte>(1024);
        try
        {
            EncodeTo(message, buffer, version);
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > MaxRetainedScratch) s_scratch = null;
            else buffer.ResetWrittenCount();
        }
    }

    /// <summary>
    /// Encodes <paramref name="message"/> into <paramref name="output"/> (for callers that pool their buffers).
    /// Null strings are written as msgpack nil, as the Python client does for unset optional strings.
    /// </summary>
    public static void EncodeTo(DxlMessage message, IBufferWriter<byte> output, int? version = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        int v = version ?? message.Version;
        if (v < 0 || v > MaxEncodeVersion)
            throw new ArgumentOutOfRangeException(nameof(version), v, $"Envelope version must be 0..{MaxEncodeVersion}.");

        // OldSpec: the broker rejects bin and the reference clients never write str8.
        var w = new MessagePackWriter(output) { OldSpec = true };
        w.Write(v);
        w.Write((int)message.MessageType);
        w.Write(message.MessageId);
        w.Write(message.SourceClientId);
        w.Write(message.SourceBrokerId);
        WriteList(ref w, message.BrokerIdsOrNull);
        WriteList(ref w, message.ClientIdsOrNull);
        // Write(ReadOnlySpan<byte>) emits a str header under OldSpec, never bin.
        w.Write(message.PayloadMemory.Span);

        switch (message)
        {
            case DxlRequest req:
                w.Write(req.ReplyToTopic);
                w.Write(req.ServiceId);
                break;
            case DxlResponse resp:
                w.Write(resp.RequestMessageId);
                w.Write(resp.ServiceId);
                // An error response is a response with its code and message after the service id.
                if (resp is DxlErrorResponse err)
                {
                    w.Write(err.ErrorCode);
                    w.Write(err.ErrorMessage);
                }
                break;
        }

        if (v >= 1)
        {
            var other = message.OtherFieldsOrNull;
            int n = other?.Count ?? 0;
            w.WriteArrayHeader(checked(n * 2));
            for (int i = 0; i < n; i++)
            {
                var kv = other![i];
                w.Write(kv.Key);
                w.Write(kv.Value);
            }
        }
        if (v >= 2)
        {
            w.Write(message.SourceTenantGuid);
            WriteList(ref w, message.DestinationTenantGuidsOrNull);
        }
        if (v >= 3)
        {
            w.Write(message.SourceClientInstanceId);
        }
        if (v >= 4 && message is DxlRequest r4)
        {
            w.Write(r4.MultiService == true ? 1 : 0);
        }
        w.Flush();
    }

    private static void WriteList(ref MessagePackWriter w, IList<string>? items)
    {
        int n = items?.Count ?? 0;
        w.WriteArrayHeader(n);
        for (int i = 0; i < n; i++) w.Write(items![i]);
    }

    /// <summary>
    /// Decodes envelope bytes. Accepts versions 0 and up (ignoring trailing items), any str/bin form and nil
    /// for strings, any integer form. Throws only <see cref="DxlEnvelopeException"/> on malformed input.
    /// </summary>
    public static DxlMessage Decode(ReadOnlyMemory<byte> bytes, string destinationTopic = "") =>
        Decode(new ReadOnlySequence<byte>(bytes), destinationTopic);

    /// <summary>Decodes envelope bytes held in a sequence (e.g. an MQTTnet payload). Same rules as the memory overload.</summary>
    public static DxlMessage Decode(in ReadOnlySequence<byte> bytes, string destinationTopic = "") =>
        DecodeOrThrow(bytes, destinationTopic, sharePayload: false);

    /// <summary>
    /// Decodes as <see cref="Decode(ReadOnlyMemory{byte}, string)"/>, except that the message's payload refers to its
    /// part of <paramref name="bytes"/> instead of a copy: for a caller that hands over a buffer nobody writes again
    /// (a received packet's own array). Reading <see cref="DxlMessage.Payload"/> makes the copy then;
    /// <see cref="DxlMessage.PayloadMemory"/> never does.
    /// </summary>
    public static DxlMessage DecodeSharing(ReadOnlyMemory<byte> bytes, string destinationTopic = "") =>
        DecodeOrThrow(new ReadOnlySequence<byte>(bytes), destinationTopic, sharePayload: true);

    private static DxlMessage DecodeOrThrow(in ReadOnlySequence<byte> bytes, string? destinationTopic, bool sharePayload)
    {
        try
        {
            return DecodeCore(bytes, destinationTopic ?? "", sharePayload);
        }
        catch (DxlEnvelopeException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // The msgpack reader signals truncation and type mismatches with its own exceptions; callers
            // are promised a single exception type so that one catch can drop any malformed message.
            throw new DxlEnvelopeException($"Malformed DXL envelope: {ex.Message}", ex);
        }
    }

    /// <summary>True when <paramref name="bytes"/> decodes as a DXL envelope; never throws.</summary>
    public static bool TryDecode(in ReadOnlySequence<byte> bytes, string destinationTopic, out DxlMessage? message)
    {
        try
        {
            message = DecodeCore(bytes, destinationTopic ?? "", sharePayload: false);
            return true;
        }
        catch (Exception)
        {
            message = null;
            return false;
        }
    }

    private static DxlMessage DecodeCore(in ReadOnlySequence<byte> bytes, string topic, bool sharePayload)
    {
        var r = new MessagePackReader(bytes);
        long total = bytes.Length;

        long version = ReadInteger(ref r, "version");
        if (version < 0 || version > int.MaxValue) throw Bad($"invalid version {version}");
        long type = ReadInteger(ref r, "message type");

        DxlMessage m = type switch
        {
            0 => new DxlRequest(),
            1 => new DxlResponse(),
            2 => new DxlEvent(),
            3 => new DxlErrorResponse(),
            _ => throw Bad($"unknown message type {type}"),
        };
        m.Version = (int)version;
        m.DestinationTopic = topic;
        m.MessageId = ReadStr(ref r, "message_id");
        m.SourceClientId = ReadRepeatedStr(ref r, "source_client_id");
        m.SourceBrokerId = ReadRepeatedStr(ref r, "source_broker_id");
        // An empty list on the wire leaves the message's list unmade (it is made empty on first read).
        if (ReadStrList(ref r, total, "broker_ids") is { } brokerIds) m.BrokerIds = brokerIds;
        if (ReadStrList(ref r, total, "client_ids") is { } clientIds) m.ClientIds = clientIds;
        var payload = ReadPayload(ref r);
        if (sharePayload && payload.IsSingleSegment) m.SharePayload(payload.First);
        else m.Payload = payload.IsEmpty ? Array.Empty<byte>() : payload.ToArray();

        ReadTypeFields(ref r, m);

        if (version >= 1 && ReadPairs(ref r, total) is { } otherFields) m.OtherFields = otherFields;
        if (version >= 2)
        {
            m.SourceTenantGuid = ReadRepeatedStr(ref r, "source_tenant_guid");
            if (ReadStrList(ref r, total, "destination_tenant_guids") is { } tenants) m.DestinationTenantGuids = tenants;
        }
        if (version >= 3) m.SourceClientInstanceId = ReadRepeatedStr(ref r, "source_client_instance_id");
        if (version >= 4 && m is DxlRequest r4)
        {
            // Experimental flag: a higher-version sender may omit it, so absence is not an error.
            if (!r.End) r4.MultiService = ReadFlag(ref r);
        }
        // Anything after the items this version defines is ignored.
        return m;
    }

    /// <summary>The fields of a request or a response (an error response adds its code and message) after the payload.</summary>
    private static void ReadTypeFields(ref MessagePackReader r, DxlMessage m)
    {
        switch (m)
        {
            case DxlRequest req:
                req.ReplyToTopic = ReadRepeatedStr(ref r, "reply_to_topic");
                req.ServiceId = ReadRepeatedStr(ref r, "service_id");
                break;
            case DxlResponse resp:
                resp.RequestMessageId = ReadStr(ref r, "request_message_id");
                resp.ServiceId = ReadRepeatedStr(ref r, "service_id");
                if (resp is DxlErrorResponse err)
                {
                    err.ErrorCode = ReadInteger(ref r, "error_code");
                    err.ErrorMessage = ReadRepeatedStr(ref r, "error_message");
                }
                break;
        }
    }

    private static DxlEnvelopeException Bad(string what) => new($"Malformed DXL envelope: {what}");

    private static void EnsureMore(ref MessagePackReader r, string field)
    {
        if (r.End) throw Bad($"truncated before {field}");
    }

    private static long ReadInteger(ref MessagePackReader r, string field)
    {
        EnsureMore(ref r, field);
        byte code = r.NextCode;
        if (code == MessagePackCode.UInt64) return unchecked((long)r.ReadUInt64());
        if (r.NextMessagePackType != MessagePackType.Integer) throw Bad($"{field} is not an integer (0x{code:x2})");
        return r.ReadInt64();
    }

    private static bool ReadFlag(ref MessagePackReader r)
    {
        if (r.NextMessagePackType == MessagePackType.Boolean) return r.ReadBoolean();
        return ReadInteger(ref r, "multi_service") != 0;
    }

    private static bool IsStr(byte code) =>
        (code >= MessagePackCode.MinFixStr && code <= MessagePackCode.MaxFixStr)
        || code == MessagePackCode.Str8 || code == MessagePackCode.Str16 || code == MessagePackCode.Str32;

    private static bool IsBin(byte code) =>
        code == MessagePackCode.Bin8 || code == MessagePackCode.Bin16 || code == MessagePackCode.Bin32;

    /// <summary>
    /// A string field whose values repeat from message to message (the ids of the few peers, brokers and services a
    /// client talks to, reply topics, tenants): decoded once, then the same string again. Message ids are unique and
    /// go through <see cref="ReadStr"/>.
    /// </summary>
    private static string? ReadRepeatedStr(ref MessagePackReader r, string field) => ReadStr(ref r, field, RepeatedStrings);

    private static readonly Utf8StringCache RepeatedStrings = new();

    private static string? ReadStr(ref MessagePackReader r, string field, Utf8StringCache? cache = null)
    {
        EnsureMore(ref r, field);
        byte code = r.NextCode;
        if (code == MessagePackCode.Nil)
        {
            r.ReadNil();
            return null;
        }
        if (IsStr(code))
        {
            // The reader checks the declared length against the remaining bytes before slicing.
            if (r.TryReadStringSpan(out var span)) return cache is null ? Utf8.GetString(span) : cache.GetString(span, Utf8);
            var seq = r.ReadStringSequence();
            return seq is { } s ? Utf8.GetString(s) : null;
        }
        if (IsBin(code))
        {
            var seq = r.ReadBytes();
            return seq is { } s ? Utf8.GetString(s) : null;
        }
        throw Bad($"{field} is not a string (0x{code:x2})");
    }

    /// <summary>The payload item (str, bin or nil) as a slice of the envelope.</summary>
    private static ReadOnlySequence<byte> ReadPayload(ref MessagePackReader r)
    {
        EnsureMore(ref r, "payload");
        byte code = r.NextCode;
        if (code == MessagePackCode.Nil)
        {
            r.ReadNil();
            return ReadOnlySequence<byte>.Empty;
        }
        ReadOnlySequence<byte>? seq;
        if (IsStr(code)) seq = r.ReadStringSequence();
        else if (IsBin(code)) seq = r.ReadBytes();
        else throw Bad($"payload is not a string (0x{code:x2})");
        return seq ?? ReadOnlySequence<byte>.Empty;
    }

    private static int ReadArrayCount(ref MessagePackReader r, long total, string field)
    {
        EnsureMore(ref r, field);
        byte code = r.NextCode;
        if (!((code >= MessagePackCode.MinFixArray && code <= MessagePackCode.MaxFixArray)
              || code == MessagePackCode.Array16 || code == MessagePackCode.Array32))
            throw Bad($"{field} is not an array (0x{code:x2})");
        int count = r.ReadArrayHeader();
        // Every element takes at least one byte: refuse counts the buffer cannot hold before allocating.
        if (count < 0 || count > total - r.Consumed) throw Bad($"{field} declares {count} items beyond the end of the buffer");
        return count;
    }

    private static List<string>? ReadStrList(ref MessagePackReader r, long total, string field)
    {
        int count = ReadArrayCount(ref r, total, field);
        if (count == 0) return null;
        var list = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            // A nil list element has no meaning as an id; keep the position with an empty string.
            list.Add(ReadStr(ref r, field, RepeatedStrings) ?? "");
        }
        return list;
    }

    private static List<KeyValuePair<string, string>>? ReadPairs(ref MessagePackReader r, long total)
    {
        int count = ReadArrayCount(ref r, total, "other_fields");
        if (count == 0) return null;
        var list = new List<KeyValuePair<string, string>>(count / 2);
        for (int i = 0; i + 1 < count; i += 2)
        {
            var key = ReadStr(ref r, "other_fields key", RepeatedStrings) ?? "";
            var value = ReadStr(ref r, "other_fields value", RepeatedStrings) ?? "";
            list.Add(new KeyValuePair<string, string>(key, value));
        }
        // Odd count: the last key has no value; read it so the following items stay aligned, then drop it
        // (the Python client keeps the pairs too).
        if ((count & 1) == 1) ReadStr(ref r, "other_fields key");
        return list;
    }
}
