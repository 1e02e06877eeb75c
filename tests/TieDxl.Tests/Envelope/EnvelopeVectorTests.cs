using System.Buffers;
using System.Text;
using System.Text.Json;
using TieDxl.Dxl;
using TieDxl.Dxl.Messages;

namespace TieDxl.Tests.Envelope;

public class EnvelopeVectorTests
{
    private const string Missing = "<vectors missing>";

    public static IEnumerable<object[]> VectorFiles()
    {
        IReadOnlyList<string> files;
        string? error = null;
        try
        {
            files = DxlVectors.Files();
        }
        catch (Exception ex)
        {
            // Report as a failing case instead of an empty theory (which xunit would not flag clearly).
            files = Array.Empty<string>();
            error = ex.Message;
        }
        if (error is not null)
        {
            yield return new object[] { Missing + " " + error };
            yield break;
        }
        foreach (var f in files) yield return new object[] { Path.GetFileName(f) };
    }

    [Fact]
    public void AllVectorFilesArePresent()
    {
        Assert.True(DxlVectors.Files().Count >= 26, "expected the 26 shared vectors");
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void VectorDecodesAndEncodesByteForByte(string file)
    {
        Assert.False(file.StartsWith(Missing, StringComparison.Ordinal), file);
        using var doc = DxlVectors.Load(file);
        var root = doc.RootElement;
        var bytes = Convert.FromHexString(root.GetProperty("encoded_hex").GetString()!);
        Assert.Equal(root.GetProperty("encoded_length").GetInt32(), bytes.Length);
        var topic = root.GetProperty("mqtt_topic").GetString() ?? "";
        int version = root.GetProperty("version").GetInt32();
        int typeCode = root.GetProperty("message_type_code").GetInt32();
        var fields = root.GetProperty("fields");

        // Decode from memory and from a multi-segment sequence (MQTTnet payloads may be segmented).
        var decoded = DxlEnvelope.Decode(bytes, topic);
        AssertFields(decoded, version, typeCode, topic, fields);
        var segmented = DxlEnvelope.Decode(Segmented(bytes, 7), topic);
        AssertFields(segmented, version, typeCode, topic, fields);

        // Encode a message built from the fields only.
        var built = Build(typeCode, version, fields);
        var encoded = DxlEnvelope.Encode(built);
        Assert.Equal(Convert.ToHexString(bytes).ToLowerInvariant(), Convert.ToHexString(encoded).ToLowerInvariant());

        // Round trip of the decoded message reproduces the bytes as well (error code sign preserved).
        Assert.Equal(bytes, DxlEnvelope.Encode(decoded));
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void VectorDecodedSharingItsBytesHasTheSameFieldsAndEncodesByteForByte(string file)
    {
        using var vector = new SharedVector(file);
        var (root, bytes, topic) = (vector.Root, vector.Bytes, vector.Topic);
        var shared = DxlEnvelope.DecodeSharing(bytes, topic);
        // The payload is a slice of the received bytes, not a copy, until someone asks for the array.
        if (!shared.PayloadMemory.IsEmpty)
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(shared.PayloadMemory, out var segment) && ReferenceEquals(segment.Array, bytes));
        Assert.Equal(bytes, DxlEnvelope.Encode(shared));
        AssertFields(shared, root.GetProperty("version").GetInt32(), root.GetProperty("message_type_code").GetInt32(), topic, root.GetProperty("fields"));
        Assert.Equal(DxlEnvelope.Decode(bytes, topic).Payload, shared.Payload);
        Assert.Same(shared.Payload, shared.Payload);
    }

    /// <summary>One vector file: its document, encoded bytes and topic.</summary>
    private sealed class SharedVector : IDisposable
    {
        private readonly JsonDocument _doc;

        public SharedVector(string file)
        {
            Assert.False(file.StartsWith(Missing, StringComparison.Ordinal), file);
            _doc = DxlVectors.Load(file);
            Bytes = Convert.FromHexString(Root.GetProperty("encoded_hex").GetString()!);
            Topic = Root.GetProperty("mqtt_topic").GetString() ?? "";
        }

        public JsonElement Root => _doc.RootElement;
        public byte[] Bytes { get; }
        public string Topic { get; }

        public void Dispose() => _doc.Dispose();
    }

    private static void AssertFields(DxlMessage m, int version, int typeCode, string topic, JsonElement f)
    {
        Assert.Equal(version, m.Version);
        Assert.Equal(typeCode, (int)m.MessageType);
        Assert.Equal(topic, m.DestinationTopic);
        Assert.Equal(Str(f, "message_id"), m.MessageId);
        Assert.Equal(Str(f, "source_client_id"), m.SourceClientId);
        Assert.Equal(Str(f, "source_broker_id"), m.SourceBrokerId);
        Assert.Equal(List(f, "broker_ids"), m.BrokerIds);
        Assert.Equal(List(f, "client_ids"), m.ClientIds);
        Assert.Equal(Convert.FromBase64String(f.GetProperty("payload_base64").GetString()!), m.Payload);
        switch (m)
        {
            case DxlRequest req:
                Assert.Equal(Str(f, "reply_to_topic"), req.ReplyToTopic);
                Assert.Equal(Str(f, "service_id"), req.ServiceId);
                if (f.TryGetProperty("multi_service", out var ms)) Assert.Equal(ms.GetBoolean(), req.MultiService);
                else Assert.Null(req.MultiService);
                break;
            case DxlErrorResponse err:
                Assert.Equal(Str(f, "request_message_id"), err.RequestMessageId);
                Assert.Equal(Str(f, "service_id"), err.ServiceId);
                Assert.Equal(unchecked((uint)f.GetProperty("error_code").GetInt64()), err.Code);
                Assert.Equal(Str(f, "error_message"), err.ErrorMessage);
                break;
            case DxlResponse resp:
                Assert.Equal(Str(f, "request_message_id"), resp.RequestMessageId);
                Assert.Equal(Str(f, "service_id"), resp.ServiceId);
                break;
        }
        Assert.Equal(f.TryGetProperty("other_fields", out _) ? Pairs(f) : new List<KeyValuePair<string, string>>(), m.OtherFields);
        Assert.Equal(f.TryGetProperty("source_tenant_guid", out _) ? Str(f, "source_tenant_guid") : "", m.SourceTenantGuid);
        Assert.Equal(f.TryGetProperty("destination_tenant_guids", out _) ? List(f, "destination_tenant_guids") : new List<string>(), m.DestinationTenantGuids);
        Assert.Equal(f.TryGetProperty("source_client_instance_id", out _) ? Str(f, "source_client_instance_id") : "", m.SourceClientInstanceId);
    }

    private static DxlMessage Build(int typeCode, int version, JsonElement f)
    {
        DxlMessage m = typeCode switch
        {
            0 => new DxlRequest
            {
                ReplyToTopic = Str(f, "reply_to_topic"),
                ServiceId = Str(f, "service_id"),
                MultiService = f.TryGetProperty("multi_service", out var ms) ? ms.GetBoolean() : null,
            },
            1 => new DxlResponse { RequestMessageId = Str(f, "request_message_id"), ServiceId = Str(f, "service_id") },
            2 => new DxlEvent(),
            3 => new DxlErrorResponse
            {
                RequestMessageId = Str(f, "request_message_id"),
                ServiceId = Str(f, "service_id"),
                ErrorCode = f.GetProperty("error_code").GetInt64(),
                ErrorMessage = Str(f, "error_message"),
            },
            _ => throw new InvalidOperationException("type"),
        };
        m.Version = version;
        m.MessageId = Str(f, "message_id");
        m.SourceClientId = Str(f, "source_client_id");
        m.SourceBrokerId = Str(f, "source_broker_id");
        m.BrokerIds = List(f, "broker_ids");
        m.ClientIds = List(f, "client_ids");
        m.Payload = Convert.FromBase64String(f.GetProperty("payload_base64").GetString()!);
        if (f.TryGetProperty("other_fields", out _)) m.OtherFields = Pairs(f);
        if (f.TryGetProperty("source_tenant_guid", out _)) m.SourceTenantGuid = Str(f, "source_tenant_guid");
        if (f.TryGetProperty("destination_tenant_guids", out _)) m.DestinationTenantGuids = List(f, "destination_tenant_guids");
        if (f.TryGetProperty("source_client_instance_id", out _)) m.SourceClientInstanceId = Str(f, "source_client_instance_id");
        return m;
    }

    private static string? Str(JsonElement f, string name)
    {
        var e = f.GetProperty(name);
        return e.ValueKind == JsonValueKind.Null ? null : e.GetString();
    }

    private static List<string> List(JsonElement f, string name) =>
        f.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToList();

    private static List<KeyValuePair<string, string>> Pairs(JsonElement f) =>
        f.GetProperty("other_fields").EnumerateArray()
            .Select(p => new KeyValuePair<string, string>(p[0].GetString()!, p[1].GetString()!)).ToList();

    internal static ReadOnlySequence<byte> Segmented(byte[] bytes, int chunk)
    {
        if (bytes.Length <= chunk) return new ReadOnlySequence<byte>(bytes);
        var first = new Segment(bytes.AsMemory(0, chunk), 0);
        var last = first;
        for (int i = chunk; i < bytes.Length; i += chunk)
            last = last.Append(bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

public class EnvelopeFormTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(100)]
    [InlineData(254)]
    [InlineData(255)]
    [InlineData(256)]
    public void StringsAndPayloadsOf32To255BytesUseStr16NeverStr8OrBin(int length)
    {
        var text = new string('x', length);
        var ev = new DxlEvent("/t", new byte[length]) { MessageId = text, SourceClientId = text, Version = 3 };
        ev.OtherFields.Add(new(text, text));
        var bytes = DxlEnvelope.Encode(ev);
        // Walk the items and check each string header, rather than grepping bytes that could be content.
        int pos = 2;
        Assert.Equal(0xda, bytes[pos]);
        Assert.Equal(length, bytes[pos + 1] << 8 | bytes[pos + 2]);
        var decoded = DxlEnvelope.Decode(bytes);
        Assert.Equal(text, decoded.MessageId);
        Assert.Equal(new byte[length], decoded.Payload);
        AssertNoStr8OrBin(bytes);
    }

    [Fact]
    public void NewMessageIdIsMadeOnceAndExplicitNullStaysNull()
    {
        var request = new DxlRequest("/t");
        var ids = new System.Collections.Concurrent.ConcurrentBag<string?>();
        Parallel.For(0, 64, _ => ids.Add(request.MessageId));
        Assert.Single(ids.Distinct());
        Assert.Matches("^\\{[0-9a-f-]{36}\\}$", request.MessageId);
        Assert.NotEqual(request.MessageId, new DxlRequest("/t").MessageId);
        var nil = new DxlEvent("/t") { MessageId = null };
        Assert.Null(nil.MessageId);
        Assert.Equal(0xc0, DxlEnvelope.Encode(nil)[2]);
    }

    [Fact]
    public void BinaryPayloadIsStrFamily()
    {
        var payload = Enumerable.Range(0, 70000).Select(i => (byte)i).ToArray();
        var bytes = DxlEnvelope.Encode(new DxlEvent("/t", payload));
        AssertNoStr8OrBin(bytes);
        Assert.Equal(payload, DxlEnvelope.Decode(bytes).Payload);
    }

    [Fact]
    public void DecoderAcceptsStr8AndBin()
    {
        // version 0 event with message id as str8, source ids as bin8/nil, payload as bin8.
        var bytes = new List<byte> { 0x00, 0x02, 0xd9, 0x03, (byte)'a', (byte)'b', (byte)'c', 0xc4, 0x01, (byte)'z', 0xc0, 0x90, 0x90, 0xc4, 0x02, 1, 2 };
        var m = DxlEnvelope.Decode(bytes.ToArray());
        Assert.Equal("abc", m.MessageId);
        Assert.Equal("z", m.SourceClientId);
        Assert.Null(m.SourceBrokerId);
        Assert.Equal(new byte[] { 1, 2 }, m.Payload);
    }

    [Fact]
    public void TrailingItemsAreIgnoredAndHigherVersionsDecode()
    {
        var ev = new DxlEvent("/t", Encoding.UTF8.GetBytes("{}")) { Version = 3 };
        var bytes = DxlEnvelope.Encode(ev).ToList();
        bytes[0] = 9; // version 9: read as far as version 3 defines, ignore the rest
        bytes.AddRange(new byte[] { 0xa3, (byte)'x', (byte)'y', (byte)'z', 0x05 });
        var m = DxlEnvelope.Decode(bytes.ToArray());
        Assert.Equal(9, m.Version);
        Assert.Equal("{}", m.PayloadText);
    }

    [Theory]
    [InlineData("0004")]                 // unknown type
    [InlineData("0000")]                 // truncated request
    [InlineData("ff00")]                 // negative version
    [InlineData("00a0")]                 // type not an int
    [InlineData("0002a0a0a09191")]       // list item truncated
    [InlineData("0002a0a0a0dd7fffffff")] // array32 count beyond buffer
    [InlineData("0002db7fffffff")]       // str32 length beyond buffer
    [InlineData("0002c6ffffffff")]       // bin32 length beyond buffer
    [InlineData("0002a0a0a09090cf")]     // payload is a uint64 header, truncated
    [InlineData("")]
    public void MalformedInputThrowsEnvelopeException(string hex)
    {
        Assert.Throws<DxlEnvelopeException>(() => DxlEnvelope.Decode(Convert.FromHexString(hex)));
    }

    internal static void AssertNoStr8OrBin(byte[] bytes)
    {
        // Re-read the envelope item by item and check the headers used.
        var r = new MessagePack.MessagePackReader(bytes);
        int guard = 0;
        while (!r.End && guard++ < 10_000)
        {
            byte code = r.NextCode;
            Assert.NotEqual(MessagePack.MessagePackCode.Str8, code);
            Assert.NotEqual(MessagePack.MessagePackCode.Bin8, code);
            Assert.NotEqual(MessagePack.MessagePackCode.Bin16, code);
            Assert.NotEqual(MessagePack.MessagePackCode.Bin32, code);
            if (r.NextMessagePackType == MessagePack.MessagePackType.Array) r.ReadArrayHeader();
            else r.Skip();
        }
    }
}
