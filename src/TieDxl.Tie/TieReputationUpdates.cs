using System.Globalization;
using System.Text.Json;

namespace TieDxl.Tie;

/// <summary>What a reputation change is about.</summary>
public enum TieSubjectKind
{
    File,
    Certificate,
}

/// <summary>
/// One subject whose reputation changed, as the change feed lists it: one hash per subject (the type chosen by the
/// request's <c>targetTypes</c>, or the server's default). <see cref="Hash"/> is lower-case hex.
/// </summary>
public sealed record TieChangedSubject(TieSubjectKind Kind, HashType HashType, string Hash)
{
    /// <summary>The subject's identity across pages and runs: <c>file:sha1:&lt;hex&gt;</c>, <c>cert:sha1:&lt;hex&gt;</c>.</summary>
    public string Key => string.Create(CultureInfo.InvariantCulture, $"{(Kind == TieSubjectKind.File ? "file" : "cert")}:{HashType.WireName()}:{Hash}");

    /// <summary>The subject of a <see cref="Key"/>, or null when the text is not one.</summary>
    public static TieChangedSubject? FromKey(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 3) return null;
        TieSubjectKind? kind = parts[0] switch { "file" => TieSubjectKind.File, "cert" => TieSubjectKind.Certificate, _ => null };
        if (kind is null || !TieConstants.TryParseHashType(parts[1], out var type)) return null;
        if (kind == TieSubjectKind.Certificate && type != HashType.Sha1) return null;
        try
        {
            return new TieChangedSubject(kind.Value, type, TieHashes.NormalizeHex(type, parts[2]));
        }
        catch (TieHashFormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// A request of the change feed (<c>/mcafee/service/tie/reputation/updates</c>). <see cref="SinceTime"/> is TIE
/// server time (epoch seconds) and inclusive; <see cref="QueryLimit"/> null leaves the page size to the server
/// (its configured default, else 100). Files and certificates are both listed unless one is left out; a hash type
/// chooses which hash the server lists per subject (certificates: SHA-1 only).
/// </summary>
public sealed record TieReputationUpdatesRequest
{
    public long SinceTime { get; init; }
    public int? QueryLimit { get; init; }

    /// <summary>Only subjects this client looked up before, or that are prevalent; null leaves it to the server.</summary>
    public bool? Targeted { get; init; }

    public bool IncludeFiles { get; init; } = true;
    public bool IncludeCertificates { get; init; } = true;

    /// <summary>The hash to list per file; null: the server's choice (SHA-1, else MD5, else SHA-256).</summary>
    public HashType? FileHashType { get; init; }

    /// <summary>The hash to list per certificate; only SHA-1 exists.</summary>
    public HashType? CertificateHashType { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (SinceTime < 0)
            throw new ArgumentOutOfRangeException(nameof(SinceTime), SinceTime, "sinceTime must be 0 or more (TIE server time, epoch seconds).");
        if (QueryLimit is { } limit && (limit < TieConstants.MinQueryLimit || limit > TieConstants.MaxQueryLimit))
            throw new ArgumentOutOfRangeException(nameof(QueryLimit), limit,
                $"queryLimit must be between {TieConstants.MinQueryLimit} and {TieConstants.MaxQueryLimit}.");
        if (!IncludeFiles && !IncludeCertificates)
            throw new ArgumentException("Ask for files, certificates or both.", nameof(IncludeFiles));
        if (FileHashType is { } f && !Enum.IsDefined(f))
            throw new ArgumentOutOfRangeException(nameof(FileHashType), f, "The file hash type must be md5, sha1 or sha256.");
        if (CertificateHashType is { } c && c != HashType.Sha1)
            throw new ArgumentOutOfRangeException(nameof(CertificateHashType), c, "TIE lists certificates by SHA-1 only.");
    }

    /// <summary>
    /// The <c>targetTypes</c> to send: none when both subjects are wanted with the server's hash choice (its
    /// backwards-compatible default); otherwise the subjects wanted, files by <see cref="FileHashType"/> or SHA-1.
    /// </summary>
    internal (HashType? File, HashType? Certificate)? TargetTypes =>
        IncludeFiles && IncludeCertificates && FileHashType is null && CertificateHashType is null
            ? null
            : (IncludeFiles ? FileHashType ?? HashType.Sha1 : null, IncludeCertificates ? HashType.Sha1 : null);
}

/// <summary>
/// One answer of the change feed. <see cref="ServerTime"/> and <see cref="QueryLimitExceeded"/> come (in
/// <c>props</c>) only when more changes wait than the page holds.
/// </summary>
public sealed record TieReputationUpdatesReply(
    IReadOnlyList<TieChangedSubject> Files,
    IReadOnlyList<TieChangedSubject> Certificates,
    long? LatestUpdateTime,
    long? ServerTime,
    bool QueryLimitExceeded)
{
    public int Count => Files.Count + Certificates.Count;

    /// <summary>Files, then certificates.</summary>
    public IEnumerable<TieChangedSubject> All => Files.Concat(Certificates);
}

/// <summary>The JSON of the change feed: the request writer and the reply reader.</summary>
public static class TieReputationUpdates
{
    /// <summary><c>{"sinceTime":n,"queryLimit":n,"targeted":b,"targetTypes":{"file":"sha256","cert":"sha1"}}</c> (optional fields only when set).</summary>
    public static byte[] Request(TieReputationUpdatesRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        return TiePayloads.Write(request, 0, static (w, r, _) =>
        {
            w.WriteStartObject();
            w.WriteNumber("sinceTime", r.SinceTime);
            if (r.QueryLimit is { } limit) w.WriteNumber("queryLimit", limit);
            if (r.Targeted is { } targeted) w.WriteBoolean("targeted", targeted);
            if (r.TargetTypes is { } types)
            {
                w.WriteStartObject("targetTypes");
                if (types.File is { } file) w.WriteString("file", file.WireName());
                if (types.Certificate is { } cert) w.WriteString("cert", cert.WireName());
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// Reads an answer. Each listed subject must carry a known hash type of the right length (<c>type</c> the
    /// algorithm, <c>value</c> base64); anything else is a <see cref="TiePayloadException"/>.
    /// <c>queryLimitExceeded</c> is read as a boolean or a number: the TIE server describes it as an integer and shows it as true.
    /// </summary>
    public static TieReputationUpdatesReply ParseReply(ReadOnlyMemory<byte> payload)
    {
        using var doc = TiePayloads.Parse(payload);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new TiePayloadException($"the reply is a JSON {TiePayloads.Kind(root)}, not an object.");
        var files = ReadSubjects(root, "fileHashes", TieSubjectKind.File);
        var certs = ReadSubjects(root, "certificateHashes", TieSubjectKind.Certificate);
        var latest = OptionalInteger(root, "latestUpdateTime", "reply");
        long? serverTime = null;
        var exceeded = false;
        if (root.TryGetProperty("props", out var props) && props.ValueKind == JsonValueKind.Object)
        {
            serverTime = OptionalInteger(props, "serverTime", "props");
            exceeded = (OptionalInteger(props, "queryLimitExceeded", "props") ?? 0) != 0;
        }
        if (files.Count + certs.Count > 0 && latest is null)
            throw new TiePayloadException("the reply lists changes but no latestUpdateTime.");
        return new TieReputationUpdatesReply(files, certs, latest, serverTime, exceeded);
    }

    private static long? OptionalInteger(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (TiePayloads.TryGetInt64(e, out var value)) return value;
        throw new TiePayloadException($"{where}.{name} is not an integer ({e.GetRawText()}).");
    }

    /// <summary>
    /// Base64 as Python's decoder reads it: digests whose unused last bits are not zero occur in the TIE server's own
    /// published examples, and a strict decoder refuses them.
    /// </summary>
    private static byte[]? Base64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }

    private static List<TieChangedSubject> ReadSubjects(JsonElement root, string name, TieSubjectKind kind)
    {
        var list = new List<TieChangedSubject>();
        if (!root.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null) return list;
        if (array.ValueKind != JsonValueKind.Array) throw new TiePayloadException($"{name} is a JSON {TiePayloads.Kind(array)}, not an array.");
        foreach (var entry in array.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object) throw new TiePayloadException($"{name} holds a {TiePayloads.Kind(entry)}, not a {{type, value}} object.");
            var type = entry.TryGetProperty("type", out var te) && te.ValueKind == JsonValueKind.String ? te.GetString()! : null;
            if (type is null || !TieConstants.TryParseHashType(type, out var hashType))
                throw new TiePayloadException($"{name} has an entry whose type is not md5, sha1 or sha256 ({(type is null ? "none" : type)}).");
            if (!entry.TryGetProperty("value", out var ve) || ve.ValueKind != JsonValueKind.String || Base64(ve.GetString()!) is not { } bytes
                || bytes.Length != hashType.ByteLength())
                throw new TiePayloadException($"{name} has a {type} entry whose value is not a base64 {hashType.ByteLength()}-byte digest.");
            list.Add(new TieChangedSubject(kind, hashType, TieHashes.ToHex(bytes)));
        }
        return list;
    }
}
