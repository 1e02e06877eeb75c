using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using TieDxl.Tie;

namespace TieDxl.Fabric.Simulator;

/// <summary>
/// One file or certificate the simulator knows. Reads are lock-free snapshots: every property holds an immutable
/// value that the store replaces as a whole under its write lock.
/// </summary>
public sealed class TieSimItem
{
    internal TieSimItem() { }

    public bool IsCertificate { get; internal init; }

    /// <summary>File name (or certificate label); may be empty.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>File hashes; for a certificate only <see cref="TieHashes.Sha1"/>.</summary>
    public TieHashes Hashes { get; internal set; } = TieHashes.Empty;

    /// <summary>Certificates: lower-case hex SHA-1 of the public key, or null.</summary>
    public string? PublicKeySha1 { get; internal set; }

    /// <summary>The complete reputation set, one entry per provider.</summary>
    public IReadOnlyList<TieReputation> Reputations { get; internal set; } = Array.Empty<TieReputation>();

    /// <summary>First references (agent GUID + date), oldest first.</summary>
    public IReadOnlyList<TieFirstReference> Agents { get; internal set; } = Array.Empty<TieFirstReference>();

    /// <summary>Files: the signing certificate, copied into file repchange events as <c>relationships.certificate</c>.</summary>
    public TieCertificateReference? Certificate { get; internal set; }

    /// <summary>The last comment of a set request or External report.</summary>
    public string? Comment { get; internal set; }

    public TieReputation? GetReputation(int providerId)
    {
        foreach (var r in Reputations)
            if (r.ProviderId == providerId) return r;
        return null;
    }

    public override string ToString() => $"{(IsCertificate ? "cert" : "file")} '{Name}' ({Hashes})";
}

/// <summary>The outcome of matching request hashes against the store.</summary>
public enum TieSimMatch
{
    /// <summary>Some known hash points to the item, no known hash points elsewhere.</summary>
    Found,
    /// <summary>No supplied hash is known.</summary>
    Unknown,
    /// <summary>Known hashes point to different items.</summary>
    Conflict,
}

/// <summary>
/// The simulator's thread-safe reputation store. Lookups are lock-free (concurrent indexes + immutable snapshots);
/// writes take a short lock that is never held across an await.
/// </summary>
public sealed class TieReputationStore
{
    private readonly object _write = new();
    private readonly ConcurrentDictionary<string, TieSimItem> _fileIndex = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TieSimItem> _certIndex = new(StringComparer.Ordinal);
    private readonly List<TieSimItem> _files = new();
    private readonly List<TieSimItem> _certs = new();

    /// <summary>An empty store.</summary>
    public TieReputationStore() { }

    /// <summary>A store holding the built-in seed (<see cref="TieSimulatorSeed.BuiltIn"/>).</summary>
    public static TieReputationStore CreateSeeded()
    {
        var s = new TieReputationStore();
        s.LoadSeed(TieSimulatorSeed.BuiltIn);
        return s;
    }

    public int FileCount { get { lock (_write) return _files.Count; } }
    public int CertificateCount { get { lock (_write) return _certs.Count; } }

    public IReadOnlyList<TieSimItem> Files { get { lock (_write) return _files.ToArray(); } }
    public IReadOnlyList<TieSimItem> Certificates { get { lock (_write) return _certs.ToArray(); } }

    /// <summary>Every reputation change made through the store (sets, External reports), for the change feed.</summary>
    public TieChangeHistory Changes { get; } = new();

    public void Clear()
    {
        lock (_write)
        {
            _files.Clear();
            _certs.Clear();
            _fileIndex.Clear();
            _certIndex.Clear();
            Changes.Clear();
        }
    }

    // ---------------------------------------------------------------- seed

    /// <summary>Loads a seed file (format: <see cref="TieSimulatorSeed"/>). Items matching existing hashes are replaced.</summary>
    public void LoadSeedFile(string path) => LoadSeed(File.ReadAllText(path));

    /// <summary>Loads seed JSON (format: <see cref="TieSimulatorSeed"/>).</summary>
    public void LoadSeed(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("The seed must be a JSON object with 'files' and/or 'certificates'.");
        if (root.TryGetProperty("replace", out var rep) && rep.ValueKind == JsonValueKind.True) Clear();
        if (root.TryGetProperty("files", out var files))
        {
            var i = 0;
            foreach (var f in files.EnumerateArray())
            {
                var where = $"files[{i++}]";
                var name = Str(f, "name") ?? "";
                var hashes = f.TryGetProperty("hashes", out var he) ? TieHashes.FromDictionary(ReadStringMap(he, where + ".hashes")) : TieHashes.Empty;
                if (hashes.IsEmpty) throw new FormatException($"{where}: no hashes.");
                TieCertificateReference? cert = null;
                if (f.TryGetProperty("certificate", out var ce) && ce.ValueKind == JsonValueKind.Object)
                {
                    var sha1 = Str(ce, "sha1");
                    var pk = Str(ce, "publicKeySha1");
                    cert = new TieCertificateReference(sha1 is null ? TieHashes.Empty : TieHashes.FromHex(HashType.Sha1, sha1),
                        pk is null ? null : TieHashes.NormalizeHex(HashType.Sha1, pk));
                }
                var reps = ReadSeedReputations(f, false, where);
                IReadOnlyList<TieFirstReference> agents = f.TryGetProperty("agents", out var ae) ? ReadSeedAgents(ae, where) : Array.Empty<TieFirstReference>();
                AddFile(name, hashes, reps, agents, cert);
            }
        }
        if (root.TryGetProperty("certificates", out var certs))
        {
            var i = 0;
            foreach (var c in certs.EnumerateArray())
            {
                var where = $"certificates[{i++}]";
                var sha1 = Str(c, "sha1") ?? throw new FormatException($"{where}: no sha1.");
                var pk = Str(c, "publicKeySha1");
                var reps = ReadSeedReputations(c, true, where);
                IReadOnlyList<TieFirstReference> agents = c.TryGetProperty("agents", out var ae) ? ReadSeedAgents(ae, where) : Array.Empty<TieFirstReference>();
                AddCertificate(Str(c, "name") ?? "", sha1, pk, reps, agents);
            }
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static IEnumerable<KeyValuePair<string, string>> ReadStringMap(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new FormatException($"{where} must be an object.");
        var list = new List<KeyValuePair<string, string>>();
        foreach (var p in e.EnumerateObject())
            list.Add(new(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()));
        return list;
    }

    private static List<TieReputation> ReadSeedReputations(JsonElement item, bool cert, string where)
    {
        var list = new List<TieReputation>();
        if (!item.TryGetProperty("reputations", out var re)) return list;
        foreach (var r in TiePayloads.ReadReputations(re, cert, where + ".reputations")) list.Add(r);
        return list;
    }

    private static List<TieFirstReference> ReadSeedAgents(JsonElement e, string where)
    {
        var list = new List<TieFirstReference>();
        foreach (var a in e.EnumerateArray())
        {
            var guid = Str(a, "agentGuid") ?? throw new FormatException($"{where}.agents: entry without agentGuid.");
            long? date = a.TryGetProperty("date", out var d) && TiePayloads.TryGetInt64(d, out var v) ? v : null;
            list.Add(new TieFirstReference(guid, date));
        }
        return list;
    }

    // ---------------------------------------------------------------- adding

    /// <summary>Adds (or replaces, when a hash is already known) a file.</summary>
    public TieSimItem AddFile(string name, TieHashes hashes, IEnumerable<TieReputation> reputations,
        IEnumerable<TieFirstReference>? agents = null, TieCertificateReference? certificate = null)
    {
        if (hashes.IsEmpty) throw new ArgumentException("A file needs at least one hash.", nameof(hashes));
        var item = new TieSimItem { Name = name, Hashes = hashes, Reputations = Dedupe(reputations), Agents = (agents ?? Array.Empty<TieFirstReference>()).ToArray(), Certificate = certificate };
        lock (_write)
        {
            foreach (var e in hashes.Entries)
                if (_fileIndex.TryGetValue(FileKey(e.Key, hashes.GetBytesOrNull(e.Key)!), out var old)) RemoveLocked(old);
            _files.Add(item);
            IndexLocked(item);
        }
        return item;
    }

    /// <summary>Adds (or replaces, when the SHA-1 is already known) a certificate. Hex input.</summary>
    public TieSimItem AddCertificate(string name, string sha1, string? publicKeySha1, IEnumerable<TieReputation> reputations,
        IEnumerable<TieFirstReference>? agents = null)
    {
        var hashes = TieHashes.FromHex(HashType.Sha1, sha1);
        var pk = string.IsNullOrWhiteSpace(publicKeySha1) ? null : TieHashes.NormalizeHex(HashType.Sha1, publicKeySha1);
        var item = new TieSimItem { IsCertificate = true, Name = name, Hashes = hashes, PublicKeySha1 = pk, Reputations = Dedupe(reputations), Agents = (agents ?? Array.Empty<TieFirstReference>()).ToArray() };
        lock (_write)
        {
            if (_certIndex.TryGetValue(CertKey(hashes.GetBytesOrNull(HashType.Sha1)!), out var old)) RemoveLocked(old);
            _certs.Add(item);
            IndexLocked(item);
        }
        return item;
    }

    private static TieReputation[] Dedupe(IEnumerable<TieReputation> reps)
    {
        var list = new List<TieReputation>();
        foreach (var r in reps)
        {
            var i = list.FindIndex(x => x.ProviderId == r.ProviderId);
            if (i >= 0) list[i] = r; else list.Add(r);
        }
        return list.ToArray();
    }

    private void RemoveLocked(TieSimItem item)
    {
        if (item.IsCertificate)
        {
            _certs.Remove(item);
            foreach (var kv in _certIndex)
                if (ReferenceEquals(kv.Value, item)) _certIndex.TryRemove(kv.Key, out _);
        }
        else
        {
            _files.Remove(item);
            foreach (var kv in _fileIndex)
                if (ReferenceEquals(kv.Value, item)) _fileIndex.TryRemove(kv.Key, out _);
        }
    }

    private void IndexLocked(TieSimItem item)
    {
        if (item.IsCertificate)
        {
            _certIndex[CertKey(item.Hashes.GetBytesOrNull(HashType.Sha1)!)] = item;
            if (item.PublicKeySha1 is { } pk) _certIndex[PublicKeyKey(Convert.FromHexString(pk))] = item;
        }
        else
        {
            foreach (var e in item.Hashes.Entries)
                _fileIndex[FileKey(e.Key, item.Hashes.GetBytesOrNull(e.Key)!)] = item;
        }
    }

    // ---------------------------------------------------------------- lookups

    internal static string FileKey(HashType type, byte[] bytes) => type switch
    {
        HashType.Md5 => "m",
        HashType.Sha1 => "1",
        _ => "2",
    } + Convert.ToHexString(bytes);

    internal static string CertKey(byte[] sha1) => "c" + Convert.ToHexString(sha1);
    internal static string PublicKeyKey(byte[] sha1) => "k" + Convert.ToHexString(sha1);

    /// <summary>
    /// Matches file hashes: found when every supplied hash that is known points to the same item (unknown hashes
    /// are ignored, so a partial or extended hash set still finds the item).
    /// </summary>
    public TieSimMatch MatchFile(TieHashes hashes, out TieSimItem? item)
    {
        item = null;
        foreach (var e in hashes.Entries)
        {
            if (!_fileIndex.TryGetValue(FileKey(e.Key, hashes.GetBytesOrNull(e.Key)!), out var hit)) continue;
            if (item is null) item = hit;
            else if (!ReferenceEquals(item, hit)) { item = null; return TieSimMatch.Conflict; }
        }
        return item is null ? TieSimMatch.Unknown : TieSimMatch.Found;
    }

    /// <summary>Matches a certificate by SHA-1 and/or public-key SHA-1 (raw bytes), same rule as files.</summary>
    public TieSimMatch MatchCertificate(byte[]? sha1, byte[]? publicKeySha1, out TieSimItem? item)
    {
        item = null;
        TieSimItem? a = null, b = null;
        if (sha1 is not null) _certIndex.TryGetValue(CertKey(sha1), out a);
        if (publicKeySha1 is not null) _certIndex.TryGetValue(PublicKeyKey(publicKeySha1), out b);
        if (a is not null && b is not null && !ReferenceEquals(a, b)) return TieSimMatch.Conflict;
        item = a ?? b;
        return item is null ? TieSimMatch.Unknown : TieSimMatch.Found;
    }

    /// <summary>The file with these hashes, or null (unknown or conflicting).</summary>
    public TieSimItem? FindFile(TieHashes hashes) => MatchFile(hashes, out var item) == TieSimMatch.Found ? item : null;

    /// <summary>The certificate with this SHA-1 (hex) and/or public-key SHA-1, or null.</summary>
    public TieSimItem? FindCertificate(string? sha1, string? publicKeySha1 = null) =>
        MatchCertificate(sha1 is null ? null : TieHashes.ParseHex(HashType.Sha1, sha1),
            publicKeySha1 is null ? null : TieHashes.ParseHex(HashType.Sha1, publicKeySha1), out var item) == TieSimMatch.Found ? item : null;

    /// <summary>The first file whose name equals <paramref name="name"/> (ordinal, ignoring case), or null.</summary>
    public TieSimItem? FindFileByName(string name)
    {
        lock (_write)
        {
            foreach (var f in _files)
                if (string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)) return f;
        }
        return null;
    }

    // ---------------------------------------------------------------- updates

    /// <summary>
    /// Sets one provider's trust level on a file, creating the file when no hash is known and merging new hash
    /// types into a known one. Returns the item and the complete reputation sets before and after.
    /// </summary>
    public (TieSimItem Item, IReadOnlyList<TieReputation> Old, IReadOnlyList<TieReputation> New) SetFileReputation(
        TieHashes hashes, int providerId, int trustLevel, long now, string? filename, string? comment, TieSimItem? known = null)
    {
        lock (_write)
        {
            var item = known;
            if (item is null && MatchFile(hashes, out var hit) == TieSimMatch.Found) item = hit;
            if (item is null)
            {
                item = new TieSimItem { Name = filename ?? "", Hashes = hashes, Agents = GeneratedAgents(hashes) };
                _files.Add(item);
            }
            else if (!hashes.Equals(item.Hashes))
            {
                // Add hash types the item lacks, unless another item owns them.
                var merged = item.Hashes;
                foreach (var e in hashes.Entries)
                {
                    if (merged.Has(e.Key)) continue;
                    if (_fileIndex.ContainsKey(FileKey(e.Key, hashes.GetBytesOrNull(e.Key)!))) continue;
                    merged = merged.With(e.Key, e.Value);
                }
                item.Hashes = merged;
            }
            if (string.IsNullOrEmpty(item.Name) && !string.IsNullOrEmpty(filename)) item.Name = filename;
            if (comment is not null) item.Comment = comment;
            IndexLocked(item);
            var changed = Update(item, providerId, trustLevel, now, false);
            Changes.Record(item, now);
            return changed;
        }
    }

    /// <summary>Sets one provider's trust level on a certificate, creating it when unknown.</summary>
    public (TieSimItem Item, IReadOnlyList<TieReputation> Old, IReadOnlyList<TieReputation> New) SetCertificateReputation(
        byte[] sha1, byte[]? publicKeySha1, int providerId, int trustLevel, long now, string? comment)
    {
        lock (_write)
        {
            if (MatchCertificate(sha1, publicKeySha1, out var item) != TieSimMatch.Found || item is null)
            {
                var hashes = TieHashes.FromBytes(HashType.Sha1, sha1);
                item = new TieSimItem
                {
                    IsCertificate = true,
                    Hashes = hashes,
                    PublicKeySha1 = publicKeySha1 is null ? null : TieHashes.ToHex(publicKeySha1),
                    Agents = GeneratedAgents(hashes),
                };
                _certs.Add(item);
            }
            else if (item.PublicKeySha1 is null && publicKeySha1 is not null && !_certIndex.ContainsKey(PublicKeyKey(publicKeySha1)))
            {
                item.PublicKeySha1 = TieHashes.ToHex(publicKeySha1);
            }
            if (comment is not null) item.Comment = comment;
            IndexLocked(item);
            var changed = Update(item, providerId, trustLevel, now, true);
            Changes.Record(item, now);
            return changed;
        }
    }

    private static (TieSimItem, IReadOnlyList<TieReputation>, IReadOnlyList<TieReputation>) Update(TieSimItem item, int providerId, int trustLevel, long now, bool cert)
    {
        var old = item.Reputations;
        var list = old.ToList();
        var i = list.FindIndex(r => r.ProviderId == providerId);
        var attrs = i >= 0 ? list[i].RawAttributes : null;
        var updated = new TieReputation(providerId, trustLevel, now, cert, attrs);
        if (i >= 0) list[i] = updated; else list.Add(updated);
        var arr = list.ToArray();
        item.Reputations = arr;
        return (item, old, arr);
    }

    // ---------------------------------------------------------------- generated data

    /// <summary>
    /// Deterministic first references for a hash set the seed does not describe: 0-4 agents whose GUIDs and dates
    /// derive from SHA-256 of the strongest hash.
    /// </summary>
    public static IReadOnlyList<TieFirstReference> GeneratedAgents(TieHashes hashes)
    {
        var strongest = hashes.Strongest;
        if (strongest is null) return Array.Empty<TieFirstReference>();
        var seed = hashes.GetBytesOrNull(strongest.Value.Key)!;
        return GeneratedAgents(seed);
    }

    internal static IReadOnlyList<TieFirstReference> GeneratedAgents(byte[] seed)
    {
        var count = seed[0] % 5;
        var list = new TieFirstReference[count];
        var buf = new byte[seed.Length + 1];
        seed.CopyTo(buf, 0);
        for (var i = 0; i < count; i++)
        {
            buf[^1] = (byte)i;
            var h = SHA256.HashData(buf);
            h[6] = (byte)((h[6] & 0x0F) | 0x40); // UUID version 4 look
            h[8] = (byte)((h[8] & 0x3F) | 0x80);
            var guid = "{" + string.Create(CultureInfo.InvariantCulture,
                $"{TieHashes.ToHex(h.AsSpan(0, 4))}-{TieHashes.ToHex(h.AsSpan(4, 2))}-{TieHashes.ToHex(h.AsSpan(6, 2))}-{TieHashes.ToHex(h.AsSpan(8, 2))}-{TieHashes.ToHex(h.AsSpan(10, 6))}") + "}";
            var date = 1_450_000_000L + (BitConverter.ToUInt32(h, 16) % 100_000_000u);
            list[i] = new TieFirstReference(guid, date);
        }
        Array.Sort(list, (x, y) => Nullable.Compare(x.DateEpoch, y.DateEpoch));
        return list;
    }
}
