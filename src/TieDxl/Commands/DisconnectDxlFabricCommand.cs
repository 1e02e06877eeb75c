using System.Management.Automation;
using TieDxl.Session;

namespace TieDxl.Commands;

/// <summary>
/// Disconnect-DxlFabric: closes sessions (the default one when none is given). Closing a session that is
/// already closed, or running with no session at all, does nothing, so that clean-up code can always call it.
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "DxlFabric", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class DisconnectDxlFabricCommand : TieDxlCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [DxlSessionTransformation]
    [ArgumentCompleter(typeof(DxlSessionNameCompleter))]
    [ValidateNotNull]
    public DxlSession[]? Session { get; set; }

    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 10;

    protected override void ProcessRecord()
    {
        var sessions = Session;
        if (sessions is null)
        {
            var current = SessionRegistry.Current.Default;
            if (current is null)
            {
                WriteVerbose("There is no default DXL session in this runspace; nothing to disconnect.");
                return;
            }
            sessions = new[] { current };
        }

        foreach (var session in sessions)
        {
            if (session.IsClosed)
            {
                WriteVerbose($"The DXL session '{session.Name}' is already closed.");
                continue;
            }
            if (!ShouldProcess(session.ToString(), "Disconnect from the DXL fabric")) continue;
            Close(session);
        }
    }

    private void Close(DxlSession session)
    {
        (session.Owner ?? SessionRegistry.Current).Remove(session);
        session.MarkClosed();
        WriteVerbose($"Disconnecting {session.Name}.");
        try
        {
            RunSync(ct => session.Client.DisconnectAsync(ct), TimeSpan.FromSeconds(TimeoutSec), logFrom: session);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // The session is gone from the runspace either way; tell why the goodbye failed.
            WriteDxlError(ex, session);
        }
        finally
        {
            try
            {
                session.Client.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            }
            catch (Exception)
            {
                // Nothing useful to report: the connection is closed or abandoned.
            }
        }
    }
}
