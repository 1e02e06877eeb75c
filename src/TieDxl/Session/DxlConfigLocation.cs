namespace TieDxl.Session;

/// <summary>A dxlclient.config found by <see cref="DxlConfigLocation.Find"/>: its full path and where the path came from.</summary>
/// <param name="Path">The full path (it may not exist: the caller says so in its own terms).</param>
/// <param name="Source">Where it came from, for messages: null for -ConfigPath, else for example "the TIEDXL_CONFIG environment variable".</param>
internal sealed record DxlConfigLocation(string Path, string? Source)
{
    /// <summary>Environment variable with the path of a dxlclient.config, used when no config is given.</summary>
    public const string EnvironmentVariable = "TIEDXL_CONFIG";

    /// <summary>
    /// The one rule for finding a config, shared by Connect-DxlFabric and Test-DxlFabric: the path given
    /// (<paramref name="configPath"/>), else the config of <paramref name="session"/> (Test-DxlFabric passes -Session
    /// or the runspace's default session), else <c>$env:TIEDXL_CONFIG</c>; null when none.
    /// <paramref name="resolvePath"/> makes a PowerShell path full.
    /// </summary>
    public static DxlConfigLocation? Find(string? configPath, DxlSession? session, Func<string, string> resolvePath)
    {
        if (!string.IsNullOrWhiteSpace(configPath)) return new(resolvePath(configPath), null);
        if (session?.ConfigPath is { } sessionConfig) return new(sessionConfig, $"the config of session '{session.Name}'");
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment)
            ? null
            : new(resolvePath(fromEnvironment), $"the {EnvironmentVariable} environment variable");
    }
}
