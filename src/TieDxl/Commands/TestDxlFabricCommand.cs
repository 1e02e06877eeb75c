using System.Management.Automation;
using System.Runtime.ExceptionServices;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Tie;

namespace TieDxl.Commands;

/// <summary>
/// Test-DxlFabric: checks a connection step by step — configuration, TCP, TLS, MQTT connect, reply topic, TIE
/// service registered, one sample lookup — and says which step fails and why. A wrong certificate fails at TLS
/// or MQTT; a missing topic authorisation shows as a registered TIE service that never answers.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "DxlFabric", DefaultParameterSetName = ConfigSet)]
[OutputType(typeof(DxlCheckStep), typeof(bool))]
public sealed class TestDxlFabricCommand : TieDxlCmdletBase
{
    private const string ConfigSet = "Config";
    private const string SessionSet = "Session";

    /// <summary>The dxlclient.config to check; defaults to $env:TIEDXL_CONFIG.</summary>
    [Parameter(ParameterSetName = ConfigSet, Position = 0)]
    public string? ConfigPath { get; set; }

    /// <summary>Check the configuration of an open session (a new, separate connection is made).</summary>
    [Parameter(ParameterSetName = SessionSet, Mandatory = true)]
    [DxlSessionTransformation]
    [ArgumentCompleter(typeof(DxlSessionNameCompleter))]
    public DxlSession? Session { get; set; }

    /// <summary>Seconds to wait for each answer.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 10;

    /// <summary>Only check the connection; no TIE steps.</summary>
    [Parameter]
    public SwitchParameter SkipTie { get; set; }

    /// <summary>Output only $true or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void EndProcessing()
    {
        Func<DxlClientConfig> load;
        if (ParameterSetName == SessionSet)
        {
            var session = ResolveSession(Session);
            var path = session.ConfigPath;
            load = path is null
                ? () => throw new InvalidOperationException($"Session '{session.Name}' was not made from a config file: check it with Connect-DxlFabric -Verbose.")
                : () => DxlClientConfig.Load(path);
        }
        else
        {
            var path = ConfigPath ?? Environment.GetEnvironmentVariable(ConnectDxlFabricCommand.ConfigEnvironmentVariable);
            if (string.IsNullOrWhiteSpace(path))
                ThrowError(Errors.ErrorCatalog.ConfigNotSpecified, ErrorCategory.InvalidArgument, "ConfigPath",
                    $"Give -ConfigPath or set ${ConnectDxlFabricCommand.ConfigEnvironmentVariable} to a dxlclient.config.");
            var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path!);
            load = () => DxlClientConfig.Load(full);
        }

        var timeout = TimeSpan.FromSeconds(TimeoutSec);
        var steps = RunSync(ct => DxlDiagnostics.RunAsync(load, SkipTie ? null : TieTopics.ServiceType,
            SkipTie ? null : (client, token) => SampleLookupAsync(client, timeout, token), timeout, ct,
            SkipTie ? null : TieTopics.RequestTopics), TimeSpan.FromSeconds(TimeoutSec * 8 + 30));

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

    /// <summary>The TIE layer's probe; a timeout is handed to the diagnostics as the DXL timeout it is, to explain in context.</summary>
    private static async Task<string> SampleLookupAsync(DxlClient client, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await new TieClient(client).ProbeAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TieTimeoutException e) when (e.InnerException is Dxl.DxlTimeoutException inner)
        {
            ExceptionDispatchInfo.Throw(inner);
            throw;
        }
    }
}
