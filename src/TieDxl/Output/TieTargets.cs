using TieDxl.Tie;

namespace TieDxl;

/// <summary>How files and certificates are named in messages: the strongest hash, then the file name.</summary>
internal static class TieTargets
{
    public static string Describe(TieHashes hashes, string? name)
    {
        var strongest = hashes.Strongest;
        var hash = strongest is { } s ? $"{s.Key.ToString().ToUpperInvariant()}:{s.Value}" : "(no hash)";
        return string.IsNullOrEmpty(name) ? hash : $"{hash} ({name})";
    }
}
