using System.Reflection;
using System.Runtime.Loader;

namespace TieDxl.ModuleLoading;

/// <summary>
/// The load context of TieDxl's third-party dependencies (MQTTnet, MQTTnet.Server, MessagePack and what they
/// pull in), read from the module's <c>Dependencies</c> folder. Whatever another module loaded into the default
/// context under the same names, TieDxl gets its own copies, and theirs stay untouched.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly Dictionary<string, string> _pathsBySimpleName;
    private readonly Dictionary<string, AssemblyName> _identities = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();

    public DependencyLoadContext(string folder)
        : base("TieDxl.Dependencies", isCollectible: false)
    {
        Folder = folder;
        // Listed once: the folder is part of the installed module and does not change while it is loaded.
        _pathsBySimpleName = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.dll").ToDictionary(
                p => Path.GetFileNameWithoutExtension(p), p => p, StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    }

    public string Folder { get; }

    public IReadOnlyCollection<string> SimpleNames => _pathsBySimpleName.Keys;

    /// <summary>
    /// Whether <paramref name="requested"/> names exactly an assembly of the folder: same simple name, version and
    /// public key token. A request for another version of a dependency's name comes from someone else's code.
    /// </summary>
    public bool Owns(AssemblyName requested)
    {
        if (requested.Name is null || !_pathsBySimpleName.TryGetValue(requested.Name, out var path)) return false;
        var own = IdentityOf(requested.Name, path);
        return requested.Version == own.Version
            && (requested.GetPublicKeyToken() ?? []).AsSpan().SequenceEqual(own.GetPublicKeyToken() ?? []);
    }

    // Within this context every dependency comes from the folder, so the default context's copies never mix in.
    // Anything else (the shared framework, TieDxl's own assemblies) falls back to the default context.
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || !_pathsBySimpleName.TryGetValue(assemblyName.Name, out var path)) return null;
        return LoadFromAssemblyPath(path);
    }

    private AssemblyName IdentityOf(string simpleName, string path)
    {
        lock (_gate)
        {
            if (!_identities.TryGetValue(simpleName, out var identity))
            {
                identity = AssemblyName.GetAssemblyName(path);
                _identities[simpleName] = identity;
            }
            return identity;
        }
    }
}
