using System.Text.Json;

namespace TieDxl.Tests.Envelope;

/// <summary>Locates and reads the shared DXL envelope vectors (shared/vectors/dxl).</summary>
public static class DxlVectors
{
    /// <summary>
    /// The vector folder: TIEDXL_VECTORS if set, else &lt;root&gt;/../shared/vectors/dxl where root holds TieDxl.slnx.
    /// A git worktree sits one level deeper (wt/name), so further ancestors are tried as well.
    /// </summary>
    public static string Directory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("TIEDXL_VECTORS");
            if (!string.IsNullOrEmpty(env))
            {
                if (System.IO.Directory.Exists(env)) return env;
                throw new InvalidOperationException($"TIEDXL_VECTORS points to '{env}', which does not exist.");
            }
            var root = RepoRoot();
            var tried = new List<string>();
            for (var dir = new DirectoryInfo(root).Parent; dir is not null && tried.Count < 4; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "vectors", "dxl");
                tried.Add(candidate);
                if (System.IO.Directory.Exists(candidate)) return candidate;
            }
            throw new InvalidOperationException(
                "DXL test vectors not found. Tried: " + string.Join(", ", tried) + ". Set TIEDXL_VECTORS to the folder.");
        }
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        for (int i = 0; i < 20 && dir is not null; i++, dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TieDxl.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No TieDxl.slnx above {AppContext.BaseDirectory}.");
    }

    public static IReadOnlyList<string> Files()
    {
        var files = System.IO.Directory.GetFiles(Directory, "*.json");
        Array.Sort(files, StringComparer.Ordinal);
        if (files.Length == 0) throw new InvalidOperationException($"No vector files in {Directory}.");
        return files;
    }

    public static JsonDocument Load(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, name.EndsWith(".json", StringComparison.Ordinal) ? name : name + ".json")));

    /// <summary>The encoded bytes of every vector (for fuzz seeds).</summary>
    public static IReadOnlyList<byte[]> AllEncoded()
    {
        var result = new List<byte[]>();
        foreach (var f in Files())
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(f));
            result.Add(Convert.FromHexString(doc.RootElement.GetProperty("encoded_hex").GetString()!));
        }
        return result;
    }
}
