using System.Text;
using System.Text.Json;

namespace TieDxl.Tie;

/// <summary>
/// Reads a file reputation reply in one pass over its bytes (no document is built): the hot path of every lookup.
/// It accepts and rejects what the document-based readers of <see cref="TiePayloads"/> do, with the same messages,
/// checked in the same order; each reputation's <c>attributes</c> object stays as JSON until someone reads it.
/// </summary>
internal static class TieFileReplyReader
{
    /// <summary>Where a value lies in the reply: its offset and length, or no value.</summary>
    private readonly record struct Slice(int Start, int Length)
    {
        public static readonly Slice None = new(-1, 0);
        public bool IsPresent => Start >= 0;
    }

    public static FileReputationResult Read(ReadOnlyMemory<byte> payload, TieHashes asked)
    {
        var json = TiePayloads.TrimPayload(payload);
        if (json.IsEmpty) throw new TiePayloadException("the payload is empty.");
        if (!IsWellFormed(json.Span))
        {
            // The document parser throws on malformed JSON, with the message and position users have seen so far.
            using var _ = JsonDocument.Parse(json);
        }
        Slice reputations = Slice.None, props = Slice.None;
        var reader = new Utf8JsonReader(json.Span);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject) throw new TiePayloadException($"the reply is a JSON {Kind(reader.TokenType)}, not an object.");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // A name given twice: the later value counts, as with the document's property lookup.
            if (reader.ValueTextEquals("reputations")) reputations = ValueAfterName(ref reader);
            else if (reader.ValueTextEquals("props")) props = ValueAfterName(ref reader);
            else SkipValueAfterName(ref reader);
        }
        var reps = reputations.IsPresent ? ReadReputations(json, reputations) : Array.Empty<TieReputation>();
        return new FileReputationResult(asked, reps, ReadProps(json, props));
    }

    private static bool IsWellFormed(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read()) { }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static IReadOnlyList<TieReputation> ReadReputations(ReadOnlyMemory<byte> json, Slice array)
    {
        var reader = Open(json, array);
        if (reader.TokenType == JsonTokenType.Null) return Array.Empty<TieReputation>();
        if (reader.TokenType != JsonTokenType.StartArray) throw new TiePayloadException($"reputations is a JSON {Kind(reader.TokenType)}, not an array.");
        var list = new List<TieReputation>(2);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var rep = ReadReputation(json, new Slice(array.Start + start, (int)reader.BytesConsumed - start));
            // One entry per provider: a later duplicate replaces the earlier one in place.
            var at = 0;
            while (at < list.Count && list[at].ProviderId != rep.ProviderId) at++;
            if (at < list.Count) list[at] = rep;
            else list.Add(rep);
        }
        return list;
    }

    private static TieReputation ReadReputation(ReadOnlyMemory<byte> json, Slice item)
    {
        const string where = "reputations[]";
        var reader = Open(json, item);
        if (reader.TokenType != JsonTokenType.StartObject) throw new TiePayloadException($"{where} is a JSON {Kind(reader.TokenType)}, not an object.");
        Slice provider = Slice.None, trust = Slice.None, create = Slice.None, detect = Slice.None, attributes = Slice.None, overridden = Slice.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref var target = ref Slot(ref reader, ref provider, ref trust, ref create, ref detect, ref attributes, ref overridden, out var known);
            var value = ValueAfterName(ref reader);
            if (known) target = value with { Start = item.Start + value.Start };
        }
        var providerId = OptionalInt32(json, provider, "providerId", where) ?? throw new TiePayloadException($"{where} has no providerId.");
        var trustLevel = OptionalInt32(json, trust, "trustLevel", where) ?? throw new TiePayloadException($"{where} (provider {providerId}) has no trustLevel.");
        var createDate = OptionalInt64(json, create, "createDate", where);
        var detectTime = OptionalInt64(json, detect, "detectTime", where);
        var attributesJson = ReadOnlyMemory<byte>.Empty;
        if (attributes.IsPresent && FirstToken(json, attributes) is var kind and not JsonTokenType.Null)
        {
            if (kind != JsonTokenType.StartObject) throw new TiePayloadException($"{where}.attributes is a JSON {Kind(kind)}, not an object.");
            attributesJson = json.Slice(attributes.Start, attributes.Length);
        }
        TieOverriddenFiles? overriddenFiles = null;
        if (overridden.IsPresent && FirstToken(json, overridden) == JsonTokenType.StartObject)
        {
            // Rare in file replies: read by the document-based reader certificates use.
            using var doc = JsonDocument.Parse(json.Slice(overridden.Start, overridden.Length));
            overriddenFiles = TiePayloads.ReadOverridden(doc.RootElement);
        }
        return TieReputation.FromReply(providerId, trustLevel, createDate, false, attributesJson, detectTime, overriddenFiles);
    }

    /// <summary>The slot of a reputation property the reader is on; <paramref name="known"/> is false for any other name.</summary>
    private static ref Slice Slot(ref Utf8JsonReader reader, ref Slice provider, ref Slice trust, ref Slice create, ref Slice detect,
        ref Slice attributes, ref Slice overridden, out bool known)
    {
        known = true;
        if (reader.ValueTextEquals("providerId")) return ref provider;
        if (reader.ValueTextEquals("trustLevel")) return ref trust;
        if (reader.ValueTextEquals("createDate")) return ref create;
        if (reader.ValueTextEquals("detectTime")) return ref detect;
        if (reader.ValueTextEquals("attributes")) return ref attributes;
        known = reader.ValueTextEquals("overridden");
        return ref overridden;
    }

    /// <summary><c>props</c>: missing or not an object gives none.</summary>
    private static TieServerProperties ReadProps(ReadOnlyMemory<byte> json, Slice props)
    {
        if (!props.IsPresent) return TieServerProperties.Empty;
        var reader = Open(json, props);
        if (reader.TokenType != JsonTokenType.StartObject) return TieServerProperties.Empty;
        Slice serverTime = Slice.None, submitMetaData = Slice.None, atdCandidate = Slice.None, masterServer = Slice.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueTextEquals("serverTime") ? 0 : reader.ValueTextEquals("submitMetaData") ? 1
                : reader.ValueTextEquals("atdCandidate") ? 2 : reader.ValueTextEquals("masterServer") ? 3 : -1;
            var value = ValueAfterName(ref reader);
            value = value with { Start = props.Start + value.Start };
            if (name == 0) serverTime = value;
            else if (name == 1) submitMetaData = value;
            else if (name == 2) atdCandidate = value;
            else if (name == 3) masterServer = value;
        }
        return new TieServerProperties(
            OptionalInt64(json, serverTime, "serverTime", "props"),
            OptionalInt32(json, submitMetaData, "submitMetaData", "props"),
            OptionalInt32(json, atdCandidate, "atdCandidate", "props"),
            OptionalString(json, masterServer));
    }

    // ---------------------------------------------------------------- values

    private static long? OptionalInt64(ReadOnlyMemory<byte> json, Slice value, string name, string where)
    {
        if (!value.IsPresent) return null;
        var reader = Open(json, value);
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (TryGetInt64(ref reader, out var v)) return v;
        throw new TiePayloadException($"{where}.{name} is not an integer ({Text(json, value)}).");
    }

    private static int? OptionalInt32(ReadOnlyMemory<byte> json, Slice value, string name, string where)
    {
        var v = OptionalInt64(json, value, name, where);
        if (v is null) return null;
        if (v < int.MinValue || v > int.MaxValue) throw new TiePayloadException($"{where}.{name} is out of range ({v}).");
        return (int)v;
    }

    private static string? OptionalString(ReadOnlyMemory<byte> json, Slice value)
    {
        if (!value.IsPresent) return null;
        var reader = Open(json, value);
        return reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Null => null,
            _ => Text(json, value),
        };
    }

    /// <summary>An integer sent as a number, a numeric string or a boolean, by <see cref="TiePayloads.TryInteger"/>.</summary>
    private static bool TryGetInt64(ref Utf8JsonReader reader, out long value) => reader.TokenType switch
    {
        // A real is parsed only when the number is not a whole one.
        JsonTokenType.Number => reader.TryGetInt64(out var i)
            ? TiePayloads.TryInteger(JsonValueKind.Number, i, null, null, out value)
            : TiePayloads.TryInteger(JsonValueKind.Number, null, reader.TryGetDouble(out var d) ? d : null, null, out value),
        JsonTokenType.String => TiePayloads.TryInteger(JsonValueKind.String, null, null, reader.GetString(), out value),
        JsonTokenType.True => TiePayloads.TryInteger(JsonValueKind.True, null, null, null, out value),
        JsonTokenType.False => TiePayloads.TryInteger(JsonValueKind.False, null, null, null, out value),
        _ => TiePayloads.TryInteger(JsonValueKind.Undefined, null, null, null, out value),
    };

    // ---------------------------------------------------------------- positions

    /// <summary>After a property name: the value's place relative to the reader's buffer, the reader left on its last token.</summary>
    private static Slice ValueAfterName(ref Utf8JsonReader reader)
    {
        reader.Read();
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return new Slice(start, (int)reader.BytesConsumed - start);
    }

    private static void SkipValueAfterName(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    /// <summary>A reader on one value of the reply (already known to be well-formed), on its first token.</summary>
    private static Utf8JsonReader Open(ReadOnlyMemory<byte> json, Slice value)
    {
        var reader = new Utf8JsonReader(json.Span.Slice(value.Start, value.Length));
        reader.Read();
        return reader;
    }

    private static JsonTokenType FirstToken(ReadOnlyMemory<byte> json, Slice value) => Open(json, value).TokenType;

    private static string Text(ReadOnlyMemory<byte> json, Slice value) => Encoding.UTF8.GetString(json.Span.Slice(value.Start, value.Length));

    /// <summary>The kind of a value as the document reader names it (<c>array</c>, <c>string</c>, <c>number</c>...).</summary>
    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        _ => "undefined",
    };
}
