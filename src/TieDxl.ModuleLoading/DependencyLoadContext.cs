using System.Reflection;
using System.Runtime.Loader;

namespace TieDxl.ModuleLoading;

/// <summary>
/// The load context of everything in the module's <c>Dependencies</c> folder: TieDxl's libraries (TieDxl.Dxl,
/// TieDxl.Tie, TieDxl.Fabric) and the third-party packages they use (MQTTnet, MQTTnet.Server, MessagePack and what
/// those pull in). References between them are resolved here first, so whatever another module loaded into the
/// default context under the same names, lower or higher version, TieDxl gets its own copies and theirs stay untouched.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly Dictionary<string, string> _pathsBySimpleName;
    private readonly Dictionary<string, AssemblyName> _identities = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();

    public DependencyLoadContext(string folder)
        : base("TieDxl.Dependencies", isCollectible: false)
    {
        // Listed once: the folder is part of the installed module and does not change while it is loaded.
        _pathsBySimpleName = Directory.EnumerateFiles(folder, "*.dll").ToDictionary(
            p => Path.GetFileNameWithoutExtension(p), p => p, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Whether <paramref name="requested"/> names exactly an assembly of the folder: same simple name, version and
    /// public key token. A request for another version of such a name comes from someone else's code.
    /// </summary>
    public bool Owns(AssemblyName requested)
    {
        if (requested.Name is null || !_pathsBySimpleName.TryGetValue(requested.Name, out var path)) return false;
        var own = IdentityOf(requested.Name, path);
        return requested.Version == own.Version
            && (requested.GetPublicKeyToken() ?? []).AsSpan().SequenceEqual(own.GetPublicKeyToken() ?? []);
    }

    // Anything not in the folder (the shared framework, System.Management.Automation, TieDxl.dll) comes from the
    // default context.
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
