using System.Buffers;
using System.Security.Cryptography;
namespace TieDxl.Tie;

/// <summary>
/// MD5, SHA-1 and SHA-256 of a file in one read (TIE matches best with all three). Callers hash several
/// files at once on worker threads, which is where the speed-up over three separate passes comes from.
/// </summary>
public static class TieFileHasher
{
    private const int BufferSize = 1024 * 1024;

    public static async Task<TieHashes> HashAsync(string path, CancellationToken cancellationToken)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0, // our own buffer is large; no second copy
                Options = FileOptions.SequentialScan | FileOptions.Asynchronous,
            });
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                var chunk = buffer.AsSpan(0, read);
                md5.AppendData(chunk);
                sha1.AppendData(chunk);
                sha256.AppendData(chunk);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Span<byte> digest = stackalloc byte[32];
        var hashes = TieHashes.Empty;
        md5.GetHashAndReset(digest);
        hashes = hashes.Merge(TieHashes.FromBytes(HashType.Md5, digest[..16]));
        sha1.GetHashAndReset(digest);
        hashes = hashes.Merge(TieHashes.FromBytes(HashType.Sha1, digest[..20]));
        sha256.GetHashAndReset(digest);
        return hashes.Merge(TieHashes.FromBytes(HashType.Sha256, digest[..32]));
    }

    /// <summary>
    /// All three hashes of a file that was hashed before (Get-FileHash gives one): one read, then each hash given
    /// must match what the file holds now, or the file changed since and its new hashes would describe another file.
    /// </summary>
    /// <exception cref="TieFileChangedException">A given hash is not the file's hash any more.</exception>
    public static async Task<TieHashes> CompleteAsync(string path, TieHashes given, CancellationToken cancellationToken)
    {
        var all = await HashAsync(path, cancellationToken).ConfigureAwait(false);
        foreach (var entry in given.Entries)
            if (!string.Equals(all[entry.Key], entry.Value, StringComparison.Ordinal))
                throw new TieFileChangedException(path, entry.Key, entry.Value, all[entry.Key]!);
        return all;
    }
}

/// <summary>A file's content is no longer the content a hash given for it was computed from.</summary>
public sealed class TieFileChangedException(string path, HashType hashType, string given, string now)
    : IOException($"'{path}' changed since it was hashed: its {hashType.WireName().ToUpperInvariant()} is now {now}, not {given}. " +
                  "Hash it again (Get-FileHash) or pipe the file itself.")
{
    public string Path { get; } = path;
    public HashType HashType { get; } = hashType;
}
