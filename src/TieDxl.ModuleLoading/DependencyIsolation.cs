using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace TieDxl.ModuleLoading;

/// <summary>
/// Runs at Import-Module TieDxl, before TieDxl.dll is loaded: the cmdlets (TieDxl.dll) live in the default load
/// context, TieDxl's libraries and their third-party dependencies in <see cref="DependencyLoadContext"/>. The default
/// context cannot find those by itself (they are in a subfolder), so its Resolving event asks here. It is answered
/// only for TieDxl's libraries (all that TieDxl.dll references) and only for the exact identities TieDxl was built
/// against: another module that asks for MQTTnet or MessagePack never gets TieDxl's copy.
/// PowerShell resolves type names only in the default context, so the public types of TieDxl's libraries are
/// registered as type accelerators under their full names: <c>catch [TieDxl.Dxl.DxlTimeoutException]</c> and
/// <c>[TieDxl.Tie.TrustLevel]</c> work as if they were loaded there.
/// </summary>
public sealed class DependencyIsolation : IModuleAssemblyInitializer
{
    internal const string DependenciesFolderName = "Dependencies";

    // TieDxl's own libraries: loaded at import so that scripts can name their types at once.
    private static readonly string[] s_libraries = ["TieDxl.Dxl", "TieDxl.Tie", "TieDxl.Fabric"];
    private static readonly HashSet<string> s_libraryNames = new(s_libraries, StringComparer.OrdinalIgnoreCase);

    private static readonly object s_gate = new();
    private static DependencyLoadContext? s_context;

    public void OnImport() => Install();

    // Installed once per process and never removed: a binary module is not unloaded by Remove-Module, and TieDxl code
    // that outlives the removal (closing a session opened before it) may still bind to a dependency. A re-import
    // finds everything in place.
    internal static void Install()
    {
        lock (s_gate)
        {
            if (s_context is not null) return;
            var moduleFolder = Path.GetDirectoryName(typeof(DependencyIsolation).Assembly.Location);
            if (string.IsNullOrEmpty(moduleFolder)) return;
            var folder = Path.Combine(moduleFolder, DependenciesFolderName);
            // A build that references the projects directly (tests, benchmarks) has everything next to it.
            if (!Directory.Exists(folder)) return;

            var context = new DependencyLoadContext(folder);
            Volatile.Write(ref s_context, context);
            AssemblyLoadContext.Default.Resolving += ResolveFromDependencies;

            var assemblies = s_libraries.Select(library => context.LoadFromAssemblyName(new AssemblyName(library))).ToArray();
            AddTypeAccelerators(assemblies);
        }
    }

    private static Assembly? ResolveFromDependencies(AssemblyLoadContext defaultContext, AssemblyName requested)
    {
        if (requested.Name is null || !s_libraryNames.Contains(requested.Name)) return null;
        var context = Volatile.Read(ref s_context);
        if (context is null || !context.Owns(requested)) return null;
        return context.LoadFromAssemblyName(requested);
    }

    // System.Management.Automation.TypeAccelerators is not public, but its public static Add method is what PowerShell
    // offers to make a type nameable in scripts. Without it the types still work, only not by name.
    private static void AddTypeAccelerators(IEnumerable<Assembly> assemblies)
    {
        var accelerators = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");
        var add = accelerators?.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(Type)])
            ?.CreateDelegate<Action<string, Type>>();
        if (add is null) return;
        // Other runspaces may be resolving type names meanwhile: PowerShell reads the table under a lock on it.
        var table = accelerators!.GetField("userTypeAccelerators", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) ?? s_gate;
        lock (table)
        {
            foreach (var type in assemblies.SelectMany(a => a.GetExportedTypes()))
            {
                if (type.FullName is { } fullName) add(fullName, type);
            }
        }
    }
}
