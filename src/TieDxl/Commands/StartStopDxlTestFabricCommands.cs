using System.Management.Automation;
using TieDxl.Errors;
using TieDxl.Fabric;
using TieDxl.Session;

namespace TieDxl.Commands;

/// <summary>
/// Start-DxlTestFabric: an embedded DXL broker with a TIE simulator, in this process, on loopback, with throwaway
/// certificates, and a session connected to it (the new default). For demos and offline script testing only.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "DxlTestFabric")]
[OutputType(typeof(DxlTestFabricInfo))]
public sealed class StartDxlTestFabricCommand : TieDxlCmdletBase
{
    /// <summary>A JSON file of extra reputations for the simulator.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SeedPath { get; set; }

    /// <summary>Loopback port; 0 (default) picks a free one.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    /// <summary>Delay added to every simulated TIE answer, standing in for a remote server.</summary>
    [Parameter]
    [ValidateRange(0, 60000)]
    public int ResponseDelayMs { get; set; }

    /// <summary>Where to write the certificates and dxlclient.config (a temporary folder by default, removed at stop).</summary>
    [Parameter]
    public string? OutputFolder { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "TestFabric";

    /// <summary>A bare DXL broker: no TIE service, so TIE requests get "no service" (0x80000001).</summary>
    [Parameter]
    public SwitchParameter NoTieSimulator { get; set; }

    protected override void EndProcessing()
    {
        var registry = SessionRegistry.Current;
        if (registry.TestFabric is { } running)
            ThrowError(ErrorCatalog.TestFabricRunning, ErrorCategory.ResourceExists, running.ConfigPath,
                $"A test fabric is already running in this runspace ({running.Broker}). Stop it with Stop-DxlTestFabric first.");
        if (registry.FindByName(Name) is { } existing)
            ThrowError(ErrorCatalog.SessionNameInUse, ErrorCategory.InvalidArgument, Name,
                $"A DXL session named '{Name}' is already open ({existing}). Disconnect it or use -Name.");

        var options = new DxlTestFabricOptions
        {
            Port = Port,
            WithTieSimulator = !NoTieSimulator,
            ResponseDelay = TimeSpan.FromMilliseconds(ResponseDelayMs),
            SeedFile = SeedPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SeedPath),
            Folder = OutputFolder is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputFolder),
        };
        if (NoTieSimulator && options.SeedFile is not null)
            ThrowError(ErrorCatalog.SeedWithoutSimulator, ErrorCategory.InvalidArgument, SeedPath,
                "-SeedPath seeds the TIE simulator, which -NoTieSimulator leaves out: use one or the other.");
        if (options.SeedFile is { } seed && !File.Exists(seed))
            ThrowError(ErrorCatalog.SeedFileNotFound, ErrorCategory.ObjectNotFound, seed, $"Seed file '{seed}' does not exist.");

        var fabric = Run(ct => DxlTestFabric.StartAsync(options, ct), "DxlTestFabric", TimeSpan.FromSeconds(60));

        var session = registry.Create(Name, fabric.NewClientConfig());
        var info = new DxlTestFabricInfo(fabric, session);
        try
        {
            OpenSession(session, TimeSpan.FromSeconds(30));
        }
        catch (Exception ex)
        {
            WaitBounded(fabric.DisposeAsync().AsTask(), SessionRegistry.CloseTimeout);
            if (ex is PipelineStoppedException) throw;
            throw ThrowDxlError(ex, fabric.ConfigPath);
        }
        registry.SetTestFabric(info);
        WriteVerbose($"Test fabric on {info.Broker}; session '{Name}' is now the default. Config: {info.ConfigPath}");
        WriteVerbose($"Provisioning endpoint {info.ProvisioningUrl} (user {info.ProvisioningUser}, throwaway password in ProvisioningPassword; trust {info.ProvisioningCaPath}).");
        WriteObject(info);
    }
}

/// <summary>Stop-DxlTestFabric: disconnects the fabric's session and stops the embedded broker and simulator.</summary>
[Cmdlet(VerbsLifecycle.Stop, "DxlTestFabric", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DxlTestFabricInfo))]
public sealed class StopDxlTestFabricCommand : TieDxlCmdletBase
{
    /// <summary>Write the stopped fabric's info (its final counters).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        var registry = SessionRegistry.Current;
        if (registry.TestFabric is not { } info)
        {
            WriteVerbose("No test fabric runs in this runspace.");
            return;
        }
        if (!ShouldProcess(info.Broker, "Stop the embedded DXL test fabric")) return;
        var stopped = registry.StopTestFabricAsync();
        if (!WaitBounded(stopped, TimeSpan.FromSeconds(30)))
            WriteWarning($"The test fabric {info.Broker} is still shutting down; it finishes in the background.");
        else if (stopped.Result is { } failure)
            WriteDxlError(failure, info.Broker);
        WriteVerbose($"Test fabric {info.Broker} stopped.");
        if (PassThru) WriteObject(info);
    }
}
