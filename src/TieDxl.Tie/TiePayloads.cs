using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace TieDxl.Tie;

/// <summary>The JSON of the TIE operations: request builders (field order as the Python client) and parsers.</summary>
public static class TiePayloads
{
    // Relaxed escaping: base64 '+' and '/' and non-ASCII file names are written as they are (as Python's json
    // writes '+'); quotes, backslashes and control characters are still escaped.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // ================================================================ requests

    /// <summary><c>{"hashes":[...],"scanType":3}</c></summary>
    public static byte[] FileReputationRequest(TieHashes hashes, int? scanType = TieConstants.OnDemandScanType)
    {
        return Write(hashes, scanType, static (w, h, st) =>
        {
            w.WriteStartObject();
            WriteHashArray(w, "hashes", h);
            if (st is { } s) w.WriteNumber("scanType", s);
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"trustLevel":n,"providerId":3,"filename":"","comment":"","hashes":[...]}</c></summary>
    public static byte[] SetFileReputationRequest(TieHashes hashes, int trustLevel, string? filename, string? comment)
    {
        return Write((hashes, trustLevel, filename, comment), 0, static (w, a, _) =>
        {
            w.WriteStartObject();
            w.WriteNumber("trustLevel", a.trustLevel);
            w.WriteNumber("providerId", (int)FileProvider.Enterprise);
            w.WriteString("filename", a.filename ?? "");
            w.WriteString("comment", a.comment ?? "");
            WriteHashArray(w, "hashes", a.hashes);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// The External report event, as the official Python client builds it: <c>file.hashes</c> is an object of
    /// hex strings (lower-case here), not base64.
    /// <c>{"file":{"type":t,"hashes":{"md5":"…"},"attributes":{"filename":"…"},"reputation":{"score":n}},"provider":{"id":15},"comment":"…"}</c>
    /// </summary>
    public static byte[] ExternalFileReportEvent(TieHashes hashes, int trustLevel, long fileType, string? filename, string? comment)
    {
        return Write((hashes, trustLevel, fileType, filename, comment), 0, static (w, a, _) =>
        {
            w.WriteStartObject();
            w.WriteStartObject("file");
            w.WriteNumber("type", a.fileType);
            w.WriteStartObject("hashes");
            foreach (var e in a.hashes.Entries) w.WriteString(e.Key.WireName(), e.Value);
            w.WriteEndObject();
            w.WriteStartObject("attributes");
            w.WriteString("filename", a.filename ?? "");
            w.WriteEndObject();
            w.WriteStartObject("reputation");
            w.WriteNumber("score", a.trustLevel);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("provider");
            w.WriteNumber("id", (int)FileProvider.External);
            w.WriteEndObject();
            w.WriteString("comment", a.comment ?? "");
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"hashes":[{"type":"sha1","value":…}],"publicKeySha1":…}</c> (the key only when given).</summary>
    public static byte[] CertificateReputationRequest(byte[] sha1, byte[]? publicKeySha1)
    {
        return Write((sha1, publicKeySha1), 0, static (w, a, _) =>
        {
            w.WriteStartObject();
            WriteSha1Array(w, a.sha1);
            if (a.publicKeySha1 is not null) w.WriteBase64String("publicKeySha1", a.publicKeySha1);
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"trustLevel":n,"providerId":4,"comment":"","hashes":[…],"publicKeySha1":…}</c></summary>
    public static byte[] SetCertificateReputationRequest(byte[] sha1, byte[]? publicKeySha1, int trustLevel, string? comment)
    {
        return Write((sha1, publicKeySha1, trustLevel, comment), 0, static (w, a, _) =>
        {
            w.WriteStartObject();
            w.WriteNumber("trustLevel", a.trustLevel);
            w.WriteNumber("providerId", (int)CertProvider.Enterprise);
            w.WriteString("comment", a.comment ?? "");
            WriteSha1Array(w, a.sha1);
            if (a.publicKeySha1 is not null) w.WriteBase64String("publicKeySha1", a.publicKeySha1);
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"queryLimit":n,"hashes":[…]}</c></summary>
    public static byte[] FileFirstReferencesRequest(TieHashes hashes, int queryLimit)
    {
        return Write(hashes, queryLimit, static (w, h, q) =>
        {
            w.WriteStartObject();
            w.WriteNumber("queryLimit", q);
            WriteHashArray(w, "hashes", h);
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"queryLimit":n,"hashes":[{"type":"sha1",…}],"publicKeySha1":…}</c></summary>
    public static byte[] CertificateFirstReferencesRequest(byte[] sha1, byte[]? publicKeySha1, int queryLimit)
    {
        return Write((sha1, publicKeySha1), queryLimit, static (w, a, q) =>
        {
            w.WriteStartObject();
            w.WriteNumber("queryLimit", q);
            WriteSha1Array(w, a.sha1);
            if (a.publicKeySha1 is not null) w.WriteBase64String("publicKeySha1", a.publicKeySha1);
            w.WriteEndObject();
        });
    }

    /// <summary>Writes <c>"name":[{"type":"md5","value":"&lt;b64&gt;"},…]</c> in md5, sha1, sha256 order.</summary>
    public static void WriteHashArray(Utf8JsonWriter w, string name, TieHashes hashes)
    {
        w.WriteStartArray(name);
        WriteHashEntry(w, HashType.Md5, hashes);
        WriteHashEntry(w, HashType.Sha1, hashes);
        WriteHashEntry(w, HashType.Sha256, hashes);
        w.WriteEndArray();
    }

    private static void WriteHashEntry(Utf8JsonWriter w, HashType type, TieHashes hashes)
    {
        if (hashes.GetBytesOrNull(type) is not { } b) return;
        w.WriteStartObject();
        w.WriteString("type", type.WireName());
        w.WriteBase64String("value", b);
        w.WriteEndObject();
    }

    private static void WriteSha1Array(Utf8JsonWriter w, byte[] sha1)
    {
        w.WriteStartArray("hashes");
        w.WriteStartObject();
        w.WriteString("type", "sha1");
        w.WriteBase64String("value", sha1);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    /// <summary>A JSON writer and its buffer, reused by one thread at a time.</summary>
    private sealed class PooledJsonWriter
    {
        public readonly ArrayBufferWriter<byte> Buffer = new(512);
        public readonly Utf8JsonWriter Writer;

        public PooledJsonWriter() => Writer = new Utf8JsonWriter(Buffer, WriterOptions);
    }

    // One writer per thread: every request payload would otherwise make a writer and a growing buffer of its own.
    [ThreadStatic] private static PooledJsonWriter? t_writer;

    // A buffer that grew past this for one large payload is dropped rather than kept for the thread's lifetime.
    private const int MaxRetainedBuffer = 64 * 1024;

    /// <summary>Runs a writer callback into a fresh byte array of the written length.</summary>
    public static byte[] Write<TState, TArg>(TState state, TArg arg, Action<Utf8JsonWriter, TState, TArg> body)
    {
        // Taken out while in use, so that a callback that writes another payload gets a writer of its own.
        var pooled = t_writer ?? new PooledJsonWriter();
        t_writer = null;
        try
        {
            body(pooled.Writer, state, arg);
            pooled.Writer.Flush();
            return pooled.Buffer.WrittenSpan.ToArray();
        }
        finally
        {
            pooled.Buffer.ResetWrittenCount();
            pooled.Writer.Reset(pooled.Buffer);
            if (pooled.Buffer.Capacity <= MaxRetainedBuffer) t_writer = pooled;
        }
    }

    // ================================================================ parsing helpers

    /// <summary>Drops trailing NUL characters and whitespace (the Python bootstrap strips NULs before parsing).</summary>
    public static ReadOnlyMemory<byte> TrimPayload(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        var end = span.Length;
        while (end > 0 && span[end - 1] is 0 or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') end--;
        var start = 0;
        // A UTF-8 byte order mark is not JSON; skip it.
        if (end >= 3 && span[0] == 0xEF && span[1] == 0xBB && span[2] == 0xBF) start = 3;
        return payload[start..end];
    }

    /// <summary>Parses a payload into a document, after <see cref="TrimPayload"/>. Throws <see cref="JsonException"/>.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> payload)
    {
        var trimmed = TrimPayload(payload);
        if (trimmed.IsEmpty) throw new TiePayloadException("the payload is empty.");
        return JsonDocument.Parse(trimmed);
    }

    private static JsonElement RequireObject(JsonElement root, string what)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TiePayloadException($"{what} is a JSON {Kind(root)}, not an object.");
        return root;
    }

    internal static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    /// <summary>Reads an integer that may be sent as a number or a numeric string.</summary>
    public static bool TryGetInt64(JsonElement e, out long value) => e.ValueKind switch
    {
        // A real is parsed only when the number is not a whole one.
        JsonValueKind.Number => e.TryGetInt64(out var i)
            ? TryInteger(JsonValueKind.Number, i, null, null, out value)
            : TryInteger(JsonValueKind.Number, null, e.TryGetDouble(out var d) ? d : null, null, out value),
        JsonValueKind.String => TryInteger(JsonValueKind.String, null, null, e.GetString(), out value),
        var kind => TryInteger(kind, null, null, null, out value),
    };

    /// <summary>
    /// The one rule for an integer TIE may send as a number (a whole one, or a real within range, truncated), a
    /// numeric string or a boolean (1 or 0); the readers pass what their value holds.
    /// </summary>
    internal static bool TryInteger(JsonValueKind kind, long? whole, double? real, string? text, out long value)
    {
        value = 0;
        switch (kind)
        {
            case JsonValueKind.Number when whole is { } w:
                value = w;
                return true;
            case JsonValueKind.Number when real is { } r && r >= long.MinValue && r <= long.MaxValue:
                value = (long)r;
                return true;
            case JsonValueKind.String:
                return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
            case JsonValueKind.True:
                value = 1;
                return true;
            default:
                return kind == JsonValueKind.False;
        }
    }

    private static long? OptionalInt64(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (TryGetInt64(e, out var v)) return v;
        throw new TiePayloadException($"{where}.{name} is not an integer ({e.GetRawText()}).");
    }

    private static int? OptionalInt32(JsonElement obj, string name, string where)
    {
        var v = OptionalInt64(obj, name, where);
        if (v is null) return null;
        if (v < int.MinValue || v > int.MaxValue) throw new TiePayloadException($"{where}.{name} is out of range ({v}).");
        return (int)v;
    }

    private static string? OptionalString(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var e)) return null;
        return e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Null => null,
            _ => e.GetRawText(),
        };
    }

    private static bool? OptionalBool(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var e)) return null;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => TryGetInt64(e, out var v) ? v != 0 : null,
        };
    }

    /// <summary>
    /// Reads hashes in either wire form: an array of <c>{type, value(base64)}</c> (service replies, events) or an
    /// object of type → hex (the External report). Unknown types and values of the wrong length go to
    /// <see cref="TieHashes.Other"/>. Later duplicates win.
    /// </summary>
    public static TieHashes ReadHashes(JsonElement e, string where = "hashes")
    {
        byte[]? md5 = null, sha1 = null, sha256 = null;
        Dictionary<string, string>? other = null;

        void Put(string type, byte[] bytes)
        {
            if (TieConstants.TryParseHashType(type, out var t) && bytes.Length == t.ByteLength())
            {
                switch (t)
                {
                    case HashType.Md5: md5 = bytes; break;
                    case HashType.Sha1: sha1 = bytes; break;
                    default: sha256 = bytes; break;
                }
            }
            else
            {
                (other ??= new(StringComparer.Ordinal))[type] = TieHashes.ToHex(bytes);
            }
        }

        switch (e.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object) throw new TiePayloadException($"{where} holds a {Kind(item)}, not a {{type, value}} object.");
                    if (!item.TryGetProperty("type", out var te) || te.ValueKind != JsonValueKind.String)
                        throw new TiePayloadException($"{where} has an entry without a string 'type'.");
                    if (!item.TryGetProperty("value", out var ve) || ve.ValueKind != JsonValueKind.String)
                        throw new TiePayloadException($"{where} has an entry without a string 'value'.");
                    if (!ve.TryGetBytesFromBase64(out var bytes))
                        throw new TiePayloadException($"{where}: the {te.GetString()} value '{ve.GetString()}' is not base64.");
                    Put(te.GetString()!, bytes);
                }
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String) throw new TiePayloadException($"{where}.{p.Name} is not a string.");
                    var hex = p.Value.GetString()!;
                    byte[] bytes;
                    try
                    {
                        bytes = Convert.FromHexString(hex.Trim());
                    }
                    catch (FormatException)
                    {
                        throw new TiePayloadException($"{where}.{p.Name} '{hex}' is not hex.");
                    }
                    Put(p.Name, bytes);
                }
                break;
            case JsonValueKind.Null:
                break;
            default:
                throw new TiePayloadException($"{where} is a JSON {Kind(e)}, not an array or object.");
        }
        return TieHashes.FromWire(md5, sha1, sha256, other);
    }

    private static TieHashes OptionalHashes(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var e) ? ReadHashes(e, name) : TieHashes.Empty;

    /// <summary>A base64 SHA-1 (e.g. <c>publicKeySha1</c>) → lower-case hex.</summary>
    private static string? OptionalBase64Hex(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.String || !e.TryGetBytesFromBase64(out var b))
            throw new TiePayloadException($"{name} is not a base64 string.");
        return TieHashes.ToHex(b);
    }

    /// <summary>Reads one reputation object.</summary>
    public static TieReputation ReadReputation(JsonElement e, bool certificate, string where = "reputation")
    {
        RequireObject(e, where);
        var provider = OptionalInt32(e, "providerId", where) ?? throw new TiePayloadException($"{where} has no providerId.");
        var trust = OptionalInt32(e, "trustLevel", where) ?? throw new TiePayloadException($"{where} (provider {provider}) has no trustLevel.");
        var create = OptionalInt64(e, "createDate", where);
        var detect = OptionalInt64(e, "detectTime", where);
        Dictionary<string, string>? attrs = null;
        if (e.TryGetProperty("attributes", out var ae) && ae.ValueKind != JsonValueKind.Null)
        {
            if (ae.ValueKind != JsonValueKind.Object) throw new TiePayloadException($"{where}.attributes is a JSON {Kind(ae)}, not an object.");
            attrs = ReadAttributes(ae);
        }
        TieOverriddenFiles? overridden = null;
        if (e.TryGetProperty("overridden", out var oe) && oe.ValueKind == JsonValueKind.Object)
            overridden = ReadOverridden(oe);
        return new TieReputation(provider, trust, create, certificate, attrs, detect, overridden);
    }

    /// <summary>An <c>attributes</c> object: id → the string value, or the JSON text of any other value; a later duplicate wins.</summary>
    private static Dictionary<string, string> ReadAttributes(JsonElement attributes)
    {
        var read = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in attributes.EnumerateObject())
            read[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        return read;
    }

    /// <summary>An <c>attributes</c> object kept as JSON by <see cref="TieReputation.FromReply"/>, read when first asked for.</summary>
    internal static IReadOnlyDictionary<string, string> ReadAttributes(ReadOnlyMemory<byte> attributesJson)
    {
        using var doc = JsonDocument.Parse(attributesJson);
        return ReadAttributes(doc.RootElement);
    }

    /// <summary>Reads a <c>reputations</c> array: one entry per provider, a later duplicate replacing the earlier one in place.</summary>
    public static IReadOnlyList<TieReputation> ReadReputations(JsonElement e, bool certificate, string where = "reputations")
    {
        if (e.ValueKind == JsonValueKind.Null) return Array.Empty<TieReputation>();
        if (e.ValueKind != JsonValueKind.Array) throw new TiePayloadException($"{where} is a JSON {Kind(e)}, not an array.");
        var list = new List<TieReputation>(e.GetArrayLength());
        foreach (var item in e.EnumerateArray())
        {
            var rep = ReadReputation(item, certificate, where + "[]");
            var replaced = false;
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].ProviderId == rep.ProviderId)
                {
                    list[i] = rep;
                    replaced = true;
                    break;
                }
            }
            if (!replaced) list.Add(rep);
        }
        return list;
    }

    internal static TieOverriddenFiles ReadOverridden(JsonElement e)
    {
        var truncated = OptionalBool(e, "truncated") ?? false;
        var files = new List<TieHashes>();
        if (e.TryGetProperty("files", out var fe) && fe.ValueKind == JsonValueKind.Array)
        {
            foreach (var f in fe.EnumerateArray())
            {
                if (f.ValueKind == JsonValueKind.Object && f.TryGetProperty("hashes", out var he))
                    files.Add(ReadHashes(he, "overridden.files[].hashes"));
            }
        }
        return new TieOverriddenFiles(truncated, files);
    }

    /// <summary>Reads <c>props</c> (missing → empty).</summary>
    public static TieServerProperties ReadProps(JsonElement root)
    {
        if (!root.TryGetProperty("props", out var p) || p.ValueKind != JsonValueKind.Object) return TieServerProperties.Empty;
        return new TieServerProperties(
            OptionalInt64(p, "serverTime", "props"),
            OptionalInt32(p, "submitMetaData", "props"),
            OptionalInt32(p, "atdCandidate", "props"),
            OptionalString(p, "masterServer"));
    }

    // ================================================================ responses

    /// <summary>Parses a file reputation reply. Missing <c>reputations</c> = none.</summary>
    public static FileReputationResult ParseFileReputation(ReadOnlyMemory<byte> payload, TieHashes asked) =>
        TieFileReplyReader.Read(payload, asked);

    /// <summary>Parses a certificate reputation reply, merging both placements of <c>overridden</c>.</summary>
    public static CertificateReputationResult ParseCertificateReputation(ReadOnlyMemory<byte> payload, string sha1Hex, string? publicKeySha1Hex)
    {
        using var doc = Parse(payload);
        var root = RequireObject(doc.RootElement, "the reply");
        var reps = root.TryGetProperty("reputations", out var re) ? ReadReputations(re, true) : Array.Empty<TieReputation>();
        TieOverriddenFiles? overridden = null;
        if (root.TryGetProperty("overridden", out var oe) && oe.ValueKind == JsonValueKind.Object)
            overridden = ReadOverridden(oe);
        foreach (var r in reps)
        {
            if (r.Overridden is null) continue;
            overridden = overridden is null
                ? r.Overridden
                : new TieOverriddenFiles(overridden.Truncated || r.Overridden.Truncated,
                    overridden.Files.Concat(r.Overridden.Files).Distinct().ToList());
        }
        return new CertificateReputationResult(sha1Hex, publicKeySha1Hex, reps, ReadProps(root), overridden);
    }

    /// <summary>Parses <c>{"totalCount":n,"agents":[{"agentGuid":…,"date":…}]}</c>; <c>{}</c> = none.</summary>
    public static TieFirstReferences ParseFirstReferences(ReadOnlyMemory<byte> payload)
    {
        using var doc = Parse(payload);
        var root = RequireObject(doc.RootElement, "the reply");
        var total = OptionalInt32(root, "totalCount", "reply");
        var agents = new List<TieFirstReference>();
        if (root.TryGetProperty("agents", out var ae) && ae.ValueKind != JsonValueKind.Null)
        {
            if (ae.ValueKind != JsonValueKind.Array) throw new TiePayloadException($"agents is a JSON {Kind(ae)}, not an array.");
            foreach (var a in ae.EnumerateArray())
            {
                RequireObject(a, "an agents entry");
                var guid = OptionalString(a, "agentGuid") ?? throw new TiePayloadException("an agents entry has no agentGuid.");
                agents.Add(new TieFirstReference(guid, OptionalInt64(a, "date", "agents[]")));
            }
        }
        return new TieFirstReferences(agents, total);
    }

    // ================================================================ events

    private static IReadOnlyList<TieReputation> ReadRepSet(JsonElement root, string name, bool cert)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return Array.Empty<TieReputation>();
        if (e.ValueKind == JsonValueKind.Array) return ReadReputations(e, cert, name);
        RequireObject(e, name);
        return e.TryGetProperty("reputations", out var re) ? ReadReputations(re, cert, name + ".reputations") : Array.Empty<TieReputation>();
    }

    public static FileReputationChangeEvent ParseFileReputationChange(ReadOnlyMemory<byte> payload, string topic = TieTopics.FileRepChangeBroadcast)
    {
        using var doc = Parse(payload);
        var root = RequireObject(doc.RootElement, "the event");
        TieCertificateReference? cert = null;
        if (root.TryGetProperty("relationships", out var rel) && rel.ValueKind == JsonValueKind.Object
            && rel.TryGetProperty("certificate", out var ce) && ce.ValueKind == JsonValueKind.Object)
        {
            cert = new TieCertificateReference(OptionalHashes(ce, "hashes"), OptionalBase64Hex(ce, "publicKeySha1"));
        }
        return new FileReputationChangeEvent(topic, OptionalHashes(root, "hashes"),
            ReadRepSet(root, "oldReputations", false), ReadRepSet(root, "newReputations", false),
            OptionalInt64(root, "updateTime", "event"), cert);
    }

    public static CertificateReputationChangeEvent ParseCertificateReputationChange(ReadOnlyMemory<byte> payload, string topic = TieTopics.CertRepChangeBroadcast)
    {
        using var doc = Parse(payload);
        var root = RequireObject(doc.RootElement, "the event");
        var hashes = OptionalHashes(root, "hashes");
        var pk = OptionalBase64Hex(root, "publicKeySha1");
        // The reference mock leaves a publicKeySha1 pseudo entry inside hashes.
        if (pk is null && hashes.Other.TryGetValue("publicKeySha1", out var inner)) pk = inner;
        return new CertificateReputationChangeEvent(topic, hashes,
            ReadRepSet(root, "oldReputations", true), ReadRepSet(root, "newReputations", true),
            OptionalInt64(root, "updateTime", "event"), pk);
    }

    public static FileDetectionEvent ParseFileDetection(ReadOnlyMemory<byte> payload, string topic = TieTopics.FileDetection)
    {
        using var doc = Parse(payload);
        var root = RequireObject(doc.RootElement, "the event");
        return new FileDetectionEvent(topic, OptionalHashes(root, "hashes"), OptionalString(root, "agentGuid"),
            OptionalInt64(root, "detectionTime", "event"), OptionalInt32(root, "localReputation", "event"),
            OptionalString(root, "name"), OptionalInt32(root, "remediationAction", "event"));
    }

    public static FileFirstInstanceEvent ParseFileFirstInstance(ReadOnlyMemory<byte> payload, string topic = TieTopics.FileFirstInstance)
    {
        using var doc = Parse(payload);
        var root = RequireObject(doc.RootElement, "the event");
        return new FileFirstInstanceEvent(topic, OptionalHashes(root, "hashes"), OptionalString(root, "agentGuid"), OptionalString(root, "name"));
    }

    public static FilePrevalenceEvent ParseFilePrevalence(ReadOnlyMemory<byte> payload, string topic = TieTopics.FilePrevalence)
    {
        using var doc = Parse(payload);
        var root = RequireObject(doc.RootElement, "the event");
        return new FilePrevalenceEvent(topic, OptionalHashes(root, "hashes"), OptionalString(root, "agentGuid"), OptionalString(root, "name"),
            OptionalInt64(root, "agentFirstReference", "event"), OptionalInt32(root, "enterpriseCount", "event"), OptionalBool(root, "prevalent"));
    }
}

/// <summary>A payload that is valid JSON but not the expected shape.</summary>
public sealed class TiePayloadException : FormatException
{
    public TiePayloadException(string message) : base(message) { }
}
