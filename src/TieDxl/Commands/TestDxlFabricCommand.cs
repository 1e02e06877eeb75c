using System.Management.Automation;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Session;
using TieDxl.Tie;

namespace TieDxl.Commands;

/// <summary>
/// Test-DxlFabric: checks a connection step by step — configuration, TCP, TLS, MQTT connect, reply topic, TIE
/// service registered, one sample lookup — and says which step fails and why. A wrong certificate fails at TLS
/// or MQTT; a missing topic authorisation shows as a registered TIE service that never answers. Without
/// arguments it checks the config of the current session (as Connect-DxlFabric finds one: <see cref="DxlConfigLocation"/>).
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "DxlFabric")]
[OutputType(typeof(DxlCheckStep), typeof(bool))]
public sealed class TestDxlFabricCommand : DxlSessionCmdletBase
{
    /// <summary>The dxlclient.config to check; defaults to the session's config, then $env:TIEDXL_CONFIG.</summary>
    [Parameter(Position = 0)]
    public string? ConfigPath { get; set; }

    /// <summary>Only check the connection; no TIE steps.</summary>
    [Parameter]
    public SwitchParameter SkipTie { get; set; }

    /// <summary>Output only $true or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    private protected override int DefaultTimeoutSec => 10;

    protected override void EndProcessing()
    {
        var load = ConfigLoader();
        var timeout = Timeout;
        var steps = Run(ct => DxlDiagnostics.RunAsync(load, SkipTie ? null : TieTopics.ServiceType,
            SkipTie ? null : (client, token) => new TieClient(client).DiagnoseAsync(timeout, token), timeout, ct,
            SkipTie ? null : TieTopics.RequestTopics), "DxlFabric", TimeSpan.FromSeconds(TimeoutSec * 8 + 30));

        var ok = steps.All(s => s.Status is DxlCheckStatus.Passed or DxlCheckStatus.Warning);
        if (Quiet)
        {
            WriteObject(ok);
            return;
        }
        foreach (var step in steps) WriteObject(step);
        if (steps.FirstOrDefault(s => s.Status == DxlCheckStatus.Failed) is { } failed)
            WriteWarning($"Step {failed.Step} ({failed.Name}) failed: {failed.Detail}");
    }

    /// <summary>
    /// How step 1 loads the config: -ConfigPath, else the session's (-Session, or the runspace's default), else
    /// $env:TIEDXL_CONFIG. A -Session opened without a config file fails step 1 with the reason.
    /// </summary>
    private Func<DxlClientConfig> ConfigLoader()
    {
        var session = Session is null ? SessionRegistry.Current.Default : CurrentSession;
        if (string.IsNullOrWhiteSpace(ConfigPath) && Session is not null && session!.ConfigPath is null)
            return () => throw new InvalidOperationException($"Session '{session.Name}' was not made from a config file: check it with Connect-DxlFabric -Verbose.");
        if (DxlConfigLocation.Find(ConfigPath, session, SessionState.Path.GetUnresolvedProviderPathFromPSPath) is not { } location)
            throw ThrowError(Errors.ErrorCatalog.ConfigNotSpecified, ErrorCategory.InvalidArgument, "ConfigPath",
                $"No DXL configuration to check: give -ConfigPath, connect first (Connect-DxlFabric or Start-DxlTestFabric), or set ${DxlConfigLocation.EnvironmentVariable} to a dxlclient.config.");
        return () => DxlClientConfig.Load(location.Path);
    }
}
