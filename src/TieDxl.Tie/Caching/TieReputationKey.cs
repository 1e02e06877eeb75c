namespace TieDxl.Tie.Caching;

/// <summary>What a hash names: one of a file's hashes, a certificate's SHA-1, or the SHA-1 of a certificate's public key.</summary>
internal enum TieHashKind : byte
{
    FileMd5 = 1,
    FileSha1 = 2,
    FileSha256 = 3,
    CertificateSha1 = 4,
    PublicKeySha1 = 5,
}

/// <summary>One hash as a cache key: its kind and its digest bytes (compared by content).</summary>
internal readonly struct TieHashKey : IEquatable<TieHashKey>
{
    private readonly byte[] _digest;
    private readonly int _hashCode;

    public TieHashKey(TieHashKind kind, byte[] digest)
    {
        Kind = kind;
        _digest = digest;
        // Digests are uniformly distributed: their first bytes are as good a hash code as any.
        _hashCode = (digest.Length >= 4 ? BitConverter.ToInt32(digest, 0) : digest.Length) ^ (int)kind;
    }

    public TieHashKind Kind { get; }

    public bool IsEmpty => _digest is null;

    public bool Equals(TieHashKey other) =>
        Kind == other.Kind && (ReferenceEquals(_digest, other._digest) || _digest.AsSpan().SequenceEqual(other._digest));

    public override bool Equals(object? obj) => obj is TieHashKey k && Equals(k);

    public override int GetHashCode() => _hashCode;
}

/// <summary>
/// The hashes a lookup asked with, as the key of its answer: two lookups share an answer only when they asked with
/// exactly the same hashes, since TIE may answer a file asked by MD5 alone otherwise than by all three. Holds up to
/// three hashes, strongest first (SHA-256, SHA-1, MD5; a certificate's SHA-1, then its public key's); no allocation.
/// </summary>
public readonly struct TieReputationKey : IEquatable<TieReputationKey>
{
    private readonly TieHashKey _first, _second, _third;

    private TieReputationKey(TieHashKey first, TieHashKey second, TieHashKey third, int count)
    {
        _first = first;
        _second = second;
        _third = third;
        Count = count;
    }

    /// <summary>How many hashes the key holds (1 to 3).</summary>
    public int Count { get; }

    internal TieHashKey this[int index] => index switch { 0 => _first, 1 => _second, _ => _third };

    /// <summary>The key of a file lookup asked with <paramref name="hashes"/>.</summary>
    public static TieReputationKey ForFile(TieHashes hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        TieHashKey first = default, second = default, third = default;
        var n = 0;
        Put(ref first, ref second, ref third, ref n, TieHashKind.FileSha256, hashes.GetBytesOrNull(HashType.Sha256));
        Put(ref first, ref second, ref third, ref n, TieHashKind.FileSha1, hashes.GetBytesOrNull(HashType.Sha1));
        Put(ref first, ref second, ref third, ref n, TieHashKind.FileMd5, hashes.GetBytesOrNull(HashType.Md5));
        if (n == 0) throw new ArgumentException("No file hashes were given (md5, sha1 and/or sha256).", nameof(hashes));
        return new TieReputationKey(first, second, third, n);
    }

    private static void Put(ref TieHashKey first, ref TieHashKey second, ref TieHashKey third, ref int n, TieHashKind kind, byte[]? digest)
    {
        if (digest is null) return;
        var key = new TieHashKey(kind, digest);
        if (n == 0) first = key; else if (n == 1) second = key; else third = key;
        n++;
    }

    /// <summary>The key of a certificate lookup: the certificate's SHA-1 and, when given, its public key's (raw digests).</summary>
    internal static TieReputationKey ForCertificate(byte[] sha1, byte[]? publicKeySha1) =>
        new(new TieHashKey(TieHashKind.CertificateSha1, sha1),
            publicKeySha1 is null ? default : new TieHashKey(TieHashKind.PublicKeySha1, publicKeySha1), default,
            publicKeySha1 is null ? 1 : 2);

    /// <summary>The key that names only a certificate's public key (a change event that gave no certificate SHA-1).</summary>
    internal static TieReputationKey ForPublicKey(byte[] publicKeySha1) =>
        new(new TieHashKey(TieHashKind.PublicKeySha1, publicKeySha1), default, default, 1);

    /// <summary>The key of a certificate lookup from hex SHA-1s (what the certificate cmdlets hold).</summary>
    public static TieReputationKey ForCertificate(string sha1, string? publicKeySha1) =>
        ForCertificate(TieHashes.ParseHex(HashType.Sha1, sha1),
            string.IsNullOrWhiteSpace(publicKeySha1) ? null : TieHashes.ParseHex(HashType.Sha1, publicKeySha1));

    /// <summary>The primary hash, by which an answer is found (the strongest).</summary>
    internal TieHashKey Primary => _first;

    public bool Equals(TieReputationKey other) =>
        Count == other.Count && _first.Equals(other._first) && _second.Equals(other._second) && _third.Equals(other._third);

    public override bool Equals(object? obj) => obj is TieReputationKey k && Equals(k);

    public override int GetHashCode() => HashCode.Combine(_first.GetHashCode(), Count);

    public static bool operator ==(TieReputationKey left, TieReputationKey right) => left.Equals(right);
    public static bool operator !=(TieReputationKey left, TieReputationKey right) => !left.Equals(right);
}
