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
        WriteList(ref w, message.BrokerIds);
        WriteList(ref w, message.ClientIds);
        // Write(ReadOnlySpan<byte>) emits a str header under OldSpec, never bin.
        w.Write((message.Payload ?? Array.Empty<byte>()).AsSpan());

        switch (message)
        {
            case DxlRequest req:
                w.Write(req.ReplyToTopic);
                w.Write(req.ServiceId);
                break;
            case DxlErrorResponse err:
                w.Write(err.RequestMessageId);
                w.Write(err.ServiceId);
                w.Write(err.ErrorCode);
                w.Write(err.ErrorMessage);
                break;
            case DxlResponse resp:
                w.Write(resp.RequestMessageId);
                w.Write(resp.ServiceId);
                break;
        }

        if (v >= 1)
        {
            var other = message.OtherFields;
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
            WriteList(ref w, message.DestinationTenantGuids);
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
    public static DxlMessage Decode(in ReadOnlySequence<byte> bytes, string destinationTopic = "")
    {
        try
        {
            return DecodeCore(bytes, destinationTopic ?? "");
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
            message = DecodeCore(bytes, destinationTopic ?? "");
            return true;
        }
        catch (Exception)
        {
            message = null;
            return false;
        }
    }

    private static DxlMessage DecodeCore(in ReadOnlySequence<byte> bytes, string topic)
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
        m.SourceClientId = ReadStr(ref r, "source_client_id");
        m.SourceBrokerId = ReadStr(ref r, "source_broker_id");
        // Fill the fresh lists the message was constructed with rather than allocating new ones.
        ReadStrList(ref r, total, "broker_ids", m.BrokerIds);
        ReadStrList(ref r, total, "client_ids", m.ClientIds);
        m.Payload = ReadBytes(ref r, "payload");

        switch (m)
        {
            case DxlRequest req:
                req.ReplyToTopic = ReadStr(ref r, "reply_to_topic");
                req.ServiceId = ReadStr(ref r, "service_id");
                break;
            case DxlErrorResponse err:
                err.RequestMessageId = ReadStr(ref r, "request_message_id");
                err.ServiceId = ReadStr(ref r, "service_id");
                err.ErrorCode = ReadInteger(ref r, "error_code");
                err.ErrorMessage = ReadStr(ref r, "error_message");
                break;
            case DxlResponse resp:
                resp.RequestMessageId = ReadStr(ref r, "request_message_id");
                resp.ServiceId = ReadStr(ref r, "service_id");
                break;
        }

        if (version >= 1) ReadPairs(ref r, total, m.OtherFields);
        if (version >= 2)
        {
            m.SourceTenantGuid = ReadStr(ref r, "source_tenant_guid");
            ReadStrList(ref r, total, "destination_tenant_guids", m.DestinationTenantGuids);
        }
        if (version >= 3) m.SourceClientInstanceId = ReadStr(ref r, "source_client_instance_id");
        if (version >= 4 && m is DxlRequest r4)
        {
            // Experimental flag: a higher-version sender may omit it, so absence is not an error.
            if (!r.End) r4.MultiService = ReadFlag(ref r);
        }
        // Anything after the items this version defines is ignored.
        return m;
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

    private static string? ReadStr(ref MessagePackReader r, string field)
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
            if (r.TryReadStringSpan(out var span)) return Utf8.GetString(span);
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

    private static byte[] ReadBytes(ref MessagePackReader r, string field)
    {
        EnsureMore(ref r, field);
        byte code = r.NextCode;
        ReadOnlySequence<byte>? seq;
        if (code == MessagePackCode.Nil)
        {
            r.ReadNil();
            return Array.Empty<byte>();
        }
        if (IsStr(code)) seq = r.ReadStringSequence();
        else if (IsBin(code)) seq = r.ReadBytes();
        else throw Bad($"{field} is not a string (0x{code:x2})");
        if (seq is not { } s || s.Length == 0) return Array.Empty<byte>();
        return s.ToArray();
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

    private static void ReadStrList(ref MessagePackReader r, long total, string field, IList<string> into)
    {
        int count = ReadArrayCount(ref r, total, field);
        if (into is List<string> list) list.EnsureCapacity(count);
        for (int i = 0; i < count; i++)
        {
            // A nil list element has no meaning as an id; keep the position with an empty string.
            into.Add(ReadStr(ref r, field) ?? "");
        }
    }

    private static void ReadPairs(ref MessagePackReader r, long total, IList<KeyValuePair<string, string>> list)
    {
        int count = ReadArrayCount(ref r, total, "other_fields");
        if (list is List<KeyValuePair<string, string>> l) l.EnsureCapacity(count / 2);
        for (int i = 0; i + 1 < count; i += 2)
        {
            var key = ReadStr(ref r, "other_fields key") ?? "";
            var value = ReadStr(ref r, "other_fields value") ?? "";
            list.Add(new KeyValuePair<string, string>(key, value));
        }
        // Odd count: the last key has no value; read it so the following items stay aligned, then drop it
        // (the Python client keeps the pairs too).
        if ((count & 1) == 1) ReadStr(ref r, "other_fields key");
    }
}
