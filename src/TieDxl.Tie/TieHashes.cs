using System.Globalization;
using System.Text;

namespace TieDxl.Tie;

/// <summary>A hash value that is not valid for its type, rejected before anything is sent.</summary>
public sealed class TieHashFormatException : ArgumentException
{
    public TieHashFormatException(string value, HashType? hashType, string reason, string? paramName = null)
        : base(Describe(value, hashType, reason), paramName)
    {
        Value = value;
        HashType = hashType;
        Reason = reason;
    }

    /// <summary>The value as given (shortened in the message when very long).</summary>
    public string Value { get; }
    public HashType? HashType { get; }
    public string Reason { get; }

    private static string Describe(string value, HashType? type, string reason)
    {
        var shown = value.Length > 80 ? value[..80] + "…" : value;
        var what = type is { } t ? t.WireName() + " hash" : "hash";
        return $"Invalid {what} '{shown}': {reason}";
    }
}

/// <summary>
/// The hashes of one file (or certificate): MD5, SHA-1 and/or SHA-256 as raw bytes, validated on the way in.
/// Hex in any case in; lower-case hex out; base64 <c>{type,value}</c> arrays for requests.
/// </summary>
public sealed class TieHashes : IEquatable<TieHashes>
{
    private readonly byte[]? _md5;
    private readonly byte[]? _sha1;
    private readonly byte[]? _sha256;
    private string? _md5Hex, _sha1Hex, _sha256Hex;

    public static TieHashes Empty { get; } = new(null, null, null, null);

    private TieHashes(byte[]? md5, byte[]? sha1, byte[]? sha256, IReadOnlyDictionary<string, string>? other)
    {
        _md5 = md5;
        _sha1 = sha1;
        _sha256 = sha256;
        Other = other ?? EmptyOther;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyOther = new Dictionary<string, string>();

    /// <summary>Hex of hashes with a type name other than md5/sha1/sha256 met in responses and events (type → lower hex).</summary>
    public IReadOnlyDictionary<string, string> Other { get; }

    /// <summary>Lower-case hex, or null.</summary>
    public string? Md5 => _md5 is null ? null : _md5Hex ??= ToHex(_md5);
    public string? Sha1 => _sha1 is null ? null : _sha1Hex ??= ToHex(_sha1);
    public string? Sha256 => _sha256 is null ? null : _sha256Hex ??= ToHex(_sha256);

    /// <summary>Number of md5/sha1/sha256 entries.</summary>
    public int Count => (_md5 is null ? 0 : 1) + (_sha1 is null ? 0 : 1) + (_sha256 is null ? 0 : 1);
    public bool IsEmpty => Count == 0;

    public bool Has(HashType type) => GetBytesOrNull(type) is not null;

    /// <summary>Lower-case hex of one type, or null.</summary>
    public string? this[HashType type] => type switch
    {
        HashType.Md5 => Md5,
        HashType.Sha1 => Sha1,
        HashType.Sha256 => Sha256,
        _ => null,
    };

    /// <summary>The digest bytes of one type (a copy), or null.</summary>
    public byte[]? GetBytes(HashType type) => GetBytesOrNull(type)?.ToArray();

    internal byte[]? GetBytesOrNull(HashType type) => type switch
    {
        HashType.Md5 => _md5,
        HashType.Sha1 => _sha1,
        HashType.Sha256 => _sha256,
        _ => null,
    };

    /// <summary>Standard base64 (with padding) of one type, or null.</summary>
    public string? ToBase64(HashType type) => GetBytesOrNull(type) is { } b ? Convert.ToBase64String(b) : null;

    /// <summary>The present entries in md5, sha1, sha256 order.</summary>
    public IEnumerable<KeyValuePair<HashType, string>> Entries
    {
        get
        {
            if (_md5 is not null) yield return new(HashType.Md5, Md5!);
            if (_sha1 is not null) yield return new(HashType.Sha1, Sha1!);
            if (_sha256 is not null) yield return new(HashType.Sha256, Sha256!);
        }
    }

    /// <summary>The present entries as wire name → lower-case hex (md5, sha1, sha256 order).</summary>
    public IReadOnlyDictionary<string, string> ToDictionary()
    {
        var d = new Dictionary<string, string>(Count + Other.Count, StringComparer.Ordinal);
        foreach (var e in Entries) d[e.Key.WireName()] = e.Value;
        foreach (var e in Other) d[e.Key] = e.Value;
        return d;
    }

    /// <summary>The strongest present hash (sha256, then sha1, then md5).</summary>
    public KeyValuePair<HashType, string>? Strongest =>
        _sha256 is not null ? new(HashType.Sha256, Sha256!) :
        _sha1 is not null ? new(HashType.Sha1, Sha1!) :
        _md5 is not null ? new(HashType.Md5, Md5!) : null;

    // ---------------------------------------------------------------- construction

    /// <summary>Builds from hex strings (any case, surrounding whitespace ignored). Null or empty = absent.</summary>
    public static TieHashes Create(string? md5 = null, string? sha1 = null, string? sha256 = null) =>
        new(ParseOptional(HashType.Md5, md5), ParseOptional(HashType.Sha1, sha1), ParseOptional(HashType.Sha256, sha256), null);

    /// <summary>One hash whose type is inferred from its length (32 md5, 40 sha1, 64 sha256).</summary>
    public static TieHashes FromHex(string hex) => Empty.With(InferType(hex), hex);

    /// <summary>One hash of a given type.</summary>
    public static TieHashes FromHex(HashType type, string hex) => Empty.With(type, hex);

    /// <summary>One hash given with a type name (md5/sha1/sha256, SHA256, SHA-256, any case).</summary>
    public static TieHashes FromHex(string typeName, string hex) => Empty.With(ParseTypeName(typeName), hex);

    /// <summary>From raw digest bytes (length checked).</summary>
    public static TieHashes FromBytes(HashType type, ReadOnlySpan<byte> digest)
    {
        if (digest.Length != type.ByteLength())
            throw new TieHashFormatException(Convert.ToHexString(digest).ToLowerInvariant(), type,
                $"a {type.WireName()} digest is {type.ByteLength()} bytes, not {digest.Length}.");
        return Empty.WithBytes(type, digest.ToArray());
    }

    /// <summary>
    /// From a map type name → hex (for example a PowerShell hashtable or <c>Get-FileHash</c> Algorithm/Hash pairs).
    /// Unknown type names are rejected.
    /// </summary>
    public static TieHashes FromDictionary(IEnumerable<KeyValuePair<string, string>> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        var result = Empty;
        foreach (var kv in hashes)
        {
            if (string.IsNullOrWhiteSpace(kv.Value)) continue;
            result = result.With(ParseTypeName(kv.Key), kv.Value);
        }
        return result;
    }

    /// <summary>
    /// From a non-generic dictionary (a PowerShell hashtable <c>@{ md5 = '…'; sha256 = '…' }</c>): keys are type names,
    /// values hex strings (null/empty values are skipped).
    /// </summary>
    public static TieHashes FromHashtable(System.Collections.IDictionary hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        var result = Empty;
        foreach (System.Collections.DictionaryEntry e in hashes)
        {
            var value = e.Value?.ToString();
            if (string.IsNullOrWhiteSpace(value)) continue;
            result = result.With(ParseTypeName(e.Key?.ToString() ?? ""), value);
        }
        return result;
    }

    /// <summary>Parses several hex hashes of one file (types inferred) into one set; two of the same type are an error.</summary>
    public static TieHashes FromHexList(IEnumerable<string> hexes)
    {
        var result = Empty;
        foreach (var h in hexes)
        {
            if (string.IsNullOrWhiteSpace(h)) continue;
            var type = InferType(h);
            if (result.Has(type))
                throw new TieHashFormatException(h, type, $"a {type.WireName()} hash was already given for this item.");
            result = result.With(type, h);
        }
        return result;
    }

    /// <summary>A copy with one hash set (replaced if present).</summary>
    public TieHashes With(HashType type, string hex) => WithBytes(type, ParseHex(type, hex));

    /// <summary>A copy with the entries of <paramref name="other"/> added (other wins on conflicts).</summary>
    public TieHashes Merge(TieHashes other) =>
        new(other._md5 ?? _md5, other._sha1 ?? _sha1, other._sha256 ?? _sha256,
            other.Other.Count == 0 ? Other : Other.Count == 0 ? other.Other : Other.Concat(other.Other).GroupBy(k => k.Key).ToDictionary(g => g.Key, g => g.Last().Value));

    private TieHashes WithBytes(HashType type, byte[] bytes) => type switch
    {
        HashType.Md5 => new(bytes, _sha1, _sha256, Other),
        HashType.Sha1 => new(_md5, bytes, _sha256, Other),
        HashType.Sha256 => new(_md5, _sha1, bytes, Other),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    internal static TieHashes FromWire(byte[]? md5, byte[]? sha1, byte[]? sha256, Dictionary<string, string>? other) =>
        new(md5, sha1, sha256, other);

    // ---------------------------------------------------------------- hex helpers

    /// <summary>The hash type of a hex string from its length; throws naming the value otherwise.</summary>
    public static HashType InferType(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var t = hex.AsSpan().Trim();
        if (TieConstants.HashTypeFromHexLength(t.Length) is { } type) return type;
        throw new TieHashFormatException(hex, null,
            $"cannot tell the algorithm from {t.Length} characters; expected 32 (md5), 40 (sha1) or 64 (sha256) hex digits.");
    }

    /// <summary>Hex → bytes for a type, validating length and digits.</summary>
    public static byte[] ParseHex(HashType type, string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var s = hex.AsSpan().Trim();
        var expected = type.HexLength();
        if (s.Length == 0)
            throw new TieHashFormatException(hex, type, "the value is empty.");
        for (var i = 0; i < s.Length; i++)
        {
            if (!IsHex(s[i]))
                throw new TieHashFormatException(hex, type,
                    $"'{s[i]}' at position {i + 1} is not a hex digit (0-9, a-f).");
        }
        if (s.Length != expected)
            throw new TieHashFormatException(hex, type,
                $"a {type.WireName()} hash has {expected} hex digits, this one has {s.Length}.");
        var bytes = new byte[expected / 2];
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)((HexValue(s[2 * i]) << 4) | HexValue(s[2 * i + 1]));
        return bytes;
    }

    /// <summary>Validates and lower-cases a hex hash of a type.</summary>
    public static string NormalizeHex(HashType type, string hex) => ToHex(ParseHex(type, hex));

    /// <summary>Hex → standard base64 (the wire form), validated for the type.</summary>
    public static string HexToBase64(HashType type, string hex) => Convert.ToBase64String(ParseHex(type, hex));

    /// <summary>Base64 → lower-case hex (no length check).</summary>
    public static string Base64ToHex(string base64) => ToHex(Convert.FromBase64String(base64));

    /// <summary>Lower-case hex of bytes.</summary>
    public static string ToHex(ReadOnlySpan<byte> bytes)
    {
        const string digits = "0123456789abcdef";
        Span<char> buf = bytes.Length <= 128 ? stackalloc char[bytes.Length * 2] : new char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            buf[2 * i] = digits[bytes[i] >> 4];
            buf[2 * i + 1] = digits[bytes[i] & 0xF];
        }
        return new string(buf);
    }

    public static HashType ParseTypeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (TieConstants.TryParseHashType(name, out var t)) return t;
        throw new ArgumentException($"Unknown hash type '{name}': expected md5, sha1 or sha256.", nameof(name));
    }

    private static byte[]? ParseOptional(HashType type, string? hex) =>
        string.IsNullOrWhiteSpace(hex) ? null : ParseHex(type, hex);

    private static bool IsHex(char c) => (uint)(c - '0') <= 9 || (uint)((c | 0x20) - 'a') <= 5;

    private static int HexValue(char c) => (uint)(c - '0') <= 9 ? c - '0' : (c | 0x20) - 'a' + 10;

    // ---------------------------------------------------------------- equality / display

    public bool Equals(TieHashes? other) =>
        other is not null && BytesEqual(_md5, other._md5) && BytesEqual(_sha1, other._sha1) && BytesEqual(_sha256, other._sha256);

    public override bool Equals(object? obj) => obj is TieHashes h && Equals(h);

    public override int GetHashCode()
    {
        var hc = new HashCode();
        if (_md5 is not null) hc.AddBytes(_md5);
        if (_sha1 is not null) hc.AddBytes(_sha1);
        if (_sha256 is not null) hc.AddBytes(_sha256);
        return hc.ToHashCode();
    }

    private static bool BytesEqual(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    /// <summary><c>md5=…, sha1=…, sha256=…</c></summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var e in Entries)
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(e.Key.WireName()).Append('=').Append(e.Value);
        }
        foreach (var e in Other)
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(e.Key).Append('=').Append(e.Value);
        }
        return sb.ToString();
    }

    internal static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
}
