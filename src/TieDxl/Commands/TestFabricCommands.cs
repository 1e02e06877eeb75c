using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using TieDxl.Dxl.Client;
using TieDxl.Fabric;
using TieDxl.Session;

namespace TieDxl.Commands;

/// <summary>What Start-DxlTestFabric started: where its config is, and the session connected to it.</summary>
public sealed class DxlTestFabricInfo
{
    internal DxlTestFabricInfo(DxlTestFabric fabric, DxlSession session)
    {
        Fabric = fabric;
        Session = session;
    }

    internal DxlTestFabric Fabric { get; }
    public DxlSession Session { get; }
    /// <summary>The generated dxlclient.config: Connect-DxlFabric or the OpenDXL Python client can use it as is.</summary>
    public string ConfigPath => Fabric.ConfigPath;
    public string Broker => $"ssl://127.0.0.1:{Fabric.Port}";
    public int Port => Fabric.Port;
    public bool TieSimulator => Fabric.Simulator is not null;
    /// <summary>TIE requests the simulator answered so far.</summary>
    public long TieRequests => Fabric.Simulator?.RequestCount ?? 0;
    /// <summary>External reports the simulator applied so far.</summary>
    public long ExternalReports => Fabric.Simulator?.ExternalReportsAccepted ?? 0;
    /// <summary>Clients connected now (this session included).</summary>
    public int Connections => Fabric.Broker.ConnectionCount;
    /// <summary>Clients that said goodbye (Disconnect-DxlFabric, or a session closed at process exit).</summary>
    public long CleanDisconnects => Fabric.Broker.CleanDisconnects;
    /// <summary>Clients whose connection just ended (killed, crashed): what a script under test should never cause.</summary>
    public long AbruptDisconnects => Fabric.Broker.AbruptDisconnects;
}

/// <summary>The test fabric of each runspace (at most one).</summary>
internal static class TestFabricRegistry
{
    private static readonly ConditionalWeakTable<Runspace, StrongBox<DxlTestFabricInfo?>> Fabrics = new();

    public static StrongBox<DxlTestFabricInfo?> Current =>
        Fabrics.GetValue(Runspace.DefaultRunspace, static _ => new StrongBox<DxlTestFabricInfo?>());
}

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
        var box = TestFabricRegistry.Current;
        if (box.Value is { } running)
            ThrowError("DxlTestFabricRunning", ErrorCategory.ResourceExists, running.ConfigPath,
                $"A test fabric is already running in this runspace ({running.Broker}). Stop it with Stop-DxlTestFabric first.");
        var registry = SessionRegistry.Current;
        if (registry.FindByName(Name) is { } existing)
            ThrowError(DxlErrors.SessionNameInUse, ErrorCategory.InvalidArgument, Name,
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
            ThrowError("DxlSeedWithoutSimulator", ErrorCategory.InvalidArgument, SeedPath,
                "-SeedPath seeds the TIE simulator, which -NoTieSimulator leaves out: use one or the other.");
        if (options.SeedFile is { } seed && !File.Exists(seed))
            ThrowError("DxlSeedFileNotFound", ErrorCategory.ObjectNotFound, seed, $"Seed file '{seed}' does not exist.");

        DxlTestFabric fabric;
        try
        {
            fabric = RunSync(ct => DxlTestFabric.StartAsync(options, ct), TimeSpan.FromSeconds(60));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowDxlError(ex, "DxlTestFabric");
            return;
        }

        var config = fabric.NewClientConfig();
        var session = new DxlSession(registry.NextId(), Name, config, log => new DxlClient(config, log));
        try
        {
            RunSync(ct => session.Client.ConnectAsync(ct), TimeSpan.FromSeconds(30), logFrom: session);
        }
        catch (Exception ex)
        {
            try { fabric.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10)); } catch (Exception) { }
            if (ex is PipelineStoppedException) throw;
            ThrowDxlError(ex, fabric.ConfigPath);
        }
        session.MarkConnected();
        session.Owner = registry;
        registry.Add(session);
        var info = new DxlTestFabricInfo(fabric, session);
        box.Value = info;
        WriteVerbose($"Test fabric on {info.Broker}; session '{Name}' is now the default. Config: {info.ConfigPath}");
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
        var box = TestFabricRegistry.Current;
        if (box.Value is not { } info)
        {
            WriteVerbose("No test fabric runs in this runspace.");
            return;
        }
        if (!ShouldProcess(info.Broker, "Stop the embedded DXL test fabric")) return;
        box.Value = null;
        var session = info.Session;
        (session.Owner ?? SessionRegistry.Current).Remove(session);
        session.MarkClosed();
        try
        {
            RunSync(async ct =>
            {
                await session.Client.DisposeAsync().ConfigureAwait(false);
                await info.Fabric.DisposeAsync().ConfigureAwait(false);
            }, TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteDxlError(ex, info.Broker);
        }
        WriteVerbose($"Test fabric {info.Broker} stopped.");
        if (PassThru) WriteObject(info);
    }
}
