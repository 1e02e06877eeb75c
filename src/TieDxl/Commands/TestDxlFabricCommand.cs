using System.Management.Automation;
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
                ThrowError(DxlErrors.ConfigNotSpecified, ErrorCategory.InvalidArgument, "ConfigPath",
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

    /// <summary>One lookup of a well-known file: any answer from TIE, even "not found", proves the round trip.</summary>
    private static async Task<string> SampleLookupAsync(DxlClient client, TimeSpan timeout, CancellationToken ct)
    {
        var tie = new TieClient(client);
        var notepad = TieHashes.Create("f2c7bb8acc97f92e987a2d4087d021b1", "7eb0139d2175739b3ccb0d1110067820be6abd29",
            "142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2");
        try
        {
            var result = await tie.GetFileReputationAsync(notepad, timeout, ct).ConfigureAwait(false);
            return $"TIE answered a file lookup ({result.Reputations.Count} provider reputation(s))";
        }
        catch (TieNotFoundException)
        {
            return "TIE answered a file lookup (file unknown to it)";
        }
        catch (TieTimeoutException e) when (e.InnerException is Dxl.DxlTimeoutException inner)
        {
            throw inner; // the diagnostics explain a timeout in context
        }
    }
}
