using System.Text.Json;
using TieDxl.Dxl.Messages;
using TieDxl.Tie;

namespace TieDxl.Fabric.Simulator;

public sealed partial class TieSimulator
{
    /// <summary>What a change feed request asks for, read and checked.</summary>
    private sealed record UpdatesQuery(long SinceTime, int Limit, bool Targeted, bool Files, HashType? FileHashType, bool Certificates);

    /// <summary>
    /// The change feed: subjects whose latest change is at or after <c>sinceTime</c> (default 0), oldest first,
    /// at most <c>queryLimit</c> (default 100, 1-5000) across files and certificates, one hash each (the
    /// <c>targetTypes</c> one when the item has it, else SHA-1, MD5, SHA-256 in that order); <c>targeted</c> keeps
    /// subjects the requesting client looked up before or that are prevalent. <c>props</c> (serverTime,
    /// queryLimitExceeded) only when more wait. A bad field → error code 0 naming it, as for other bad requests.
    /// </summary>
    private Outcome HandleReputationUpdates(DxlRequest request, JsonElement root)
    {
        if (ReadUpdatesQuery(root, out var query) is { } problem) return new(new DxlErrorResponse(request, 0, problem), null);
        var client = Requester(request);
        bool Include(TieSimItem item) =>
            (item.IsCertificate ? query.Certificates : query.Files)
            && (!query.Targeted || TieChangeHistory.IsPrevalent(item) || Store.Changes.LookedUp(client, item));
        var listed = Store.Changes.ChangedSince(query.SinceTime, query.Limit, Include, out var more);
        return new(new DxlResponse(request, UpdatesReply(listed, query, more, Now)), null);
    }

    /// <summary>Reads a change feed request; returns what is wrong with it, or null.</summary>
    private static string? ReadUpdatesQuery(JsonElement root, out UpdatesQuery query)
    {
        query = new UpdatesQuery(0, 100, false, true, null, true);
        long since = 0;
        if (root.TryGetProperty("sinceTime", out var se) && se.ValueKind != JsonValueKind.Null
            && (!TiePayloads.TryGetInt64(se, out since) || since < 0))
            return "Invalid sinceTime: an epoch time in seconds, 0 or more, is expected";
        if (!QueryLimit(root, out var limit))
            return $"queryLimit must be between {TieConstants.MinQueryLimit} and {TieConstants.MaxQueryLimit}";
        var targeted = false;
        if (root.TryGetProperty("targeted", out var te) && te.ValueKind != JsonValueKind.Null)
        {
            if (te.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return "Invalid targeted: true or false is expected";
            targeted = te.GetBoolean();
        }
        query = query with { SinceTime = since, Limit = limit, Targeted = targeted };
        if (!root.TryGetProperty("targetTypes", out var types) || types.ValueKind == JsonValueKind.Null) return null;
        if (types.ValueKind != JsonValueKind.Object) return "Invalid targetTypes: an object is expected";
        HashType? fileType = null;
        if (types.TryGetProperty("file", out var fe))
        {
            if (fe.ValueKind != JsonValueKind.String || !TieConstants.TryParseHashType(fe.GetString(), out var t) || fe.GetString() != t.WireName())
                return "Invalid targetTypes.file: \"sha1\", \"md5\" or \"sha256\" is expected";
            fileType = t;
        }
        var certs = types.TryGetProperty("cert", out var ce);
        if (certs && (ce.ValueKind != JsonValueKind.String || ce.GetString() != "sha1"))
            return "Invalid targetTypes.cert: \"sha1\" is expected";
        if (fileType is null && !certs) return "Invalid targetTypes: name \"file\" and/or \"cert\"";
        query = query with { Files = fileType is not null, FileHashType = fileType, Certificates = certs };
        return null;
    }

    /// <summary><c>{"fileHashes":[{"type":…,"value":…}],"certificateHashes":[…],"latestUpdateTime":n,"props":{"serverTime":n,"queryLimitExceeded":true}}</c></summary>
    private static byte[] UpdatesReply(List<TieChangeHistory.Listed> listed, UpdatesQuery query, bool more, long now) =>
        TiePayloads.Write((listed, query, more), now, static (w, a, time) =>
        {
            w.WriteStartObject();
            if (a.query.Files) WriteListedHashes(w, "fileHashes", a.listed, certificates: false, a.query.FileHashType);
            if (a.query.Certificates) WriteListedHashes(w, "certificateHashes", a.listed, certificates: true, HashType.Sha1);
            if (a.listed.Count > 0) w.WriteNumber("latestUpdateTime", a.listed[^1].Time);
            if (a.more)
            {
                w.WriteStartObject("props");
                w.WriteNumber("serverTime", time);
                w.WriteBoolean("queryLimitExceeded", true);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });

    private static void WriteListedHashes(Utf8JsonWriter w, string name, List<TieChangeHistory.Listed> listed, bool certificates, HashType? wanted)
    {
        w.WriteStartArray(name);
        foreach (var entry in listed)
        {
            if (entry.Item.IsCertificate != certificates) continue;
            var hashes = entry.Item.Hashes;
            var type = wanted is { } t && hashes.Has(t) ? t
                : hashes.Has(HashType.Sha1) ? HashType.Sha1
                : hashes.Has(HashType.Md5) ? HashType.Md5
                : HashType.Sha256;
            w.WriteStartObject();
            w.WriteString("type", type.WireName());
            w.WriteBase64String("value", hashes.GetBytesOrNull(type)!);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
