using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace TieDxl.ModuleLoading;

/// <summary>
/// Import-Module TieDxl: TieDxl's own assemblies live in the default context (so scripts can name their types,
/// e.g. <c>catch [TieDxl.Dxl.DxlTimeoutException]</c>), its third-party dependencies in
/// <see cref="DependencyLoadContext"/>. The default context cannot find those by itself (they are in a subfolder),
/// so its Resolving event asks here, and only the exact identities TieDxl was built against are answered.
/// </summary>
public sealed class DependencyIsolation : IModuleAssemblyInitializer
{
    internal const string DependenciesFolderName = "Dependencies";

    private static readonly object s_gate = new();
    private static DependencyLoadContext? s_context;

    /// <summary>The context of the dependencies, or null when the module was loaded without its Dependencies folder.</summary>
    internal static DependencyLoadContext? Context => Volatile.Read(ref s_context);

    public void OnImport() => Install();

    // Installed once per process and never removed: a binary module is not unloaded by Remove-Module, and TieDxl code
    // that outlives the removal (closing a session opened before it) may still bind to a dependency. A re-import
    // finds it in place.
    internal static void Install()
    {
        lock (s_gate)
        {
            if (s_context is not null) return;
            var moduleFolder = Path.GetDirectoryName(typeof(DependencyIsolation).Assembly.Location);
            if (string.IsNullOrEmpty(moduleFolder)) return;
            var folder = Path.Combine(moduleFolder, DependenciesFolderName);
            // A build that references the projects directly (tests, benchmarks) has its dependencies next to it.
            if (!Directory.Exists(folder)) return;
            Volatile.Write(ref s_context, new DependencyLoadContext(folder));
            AssemblyLoadContext.Default.Resolving += ResolveDependency;
        }
    }

    private static Assembly? ResolveDependency(AssemblyLoadContext defaultContext, AssemblyName requested)
    {
        var context = Context;
        if (context is null || !context.Owns(requested)) return null;
        return context.LoadFromAssemblyName(requested);
    }
}
