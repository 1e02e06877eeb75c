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
            WriteVerbose($"Disconnecting {session.Name}.");
            using var log = session.AttachLog(PostLog);
            var closed = SessionRegistry.CloseAsync(session);
            // The session is gone from the runspace either way; say why the goodbye did not finish.
            if (!WaitBounded(closed, TimeSpan.FromSeconds(TimeoutSec)))
            {
                ThrowIfStopping();
                WriteError(Errors.ErrorCatalog.OperationTimeout, ErrorCategory.OperationTimeout, session,
                    $"The goodbye of '{session.Name}' did not finish within {TimeoutSec} s; the connection is closed in the background.");
            }
            else if (closed.Result is { } failure)
            {
                WriteDxlError(failure, session);
            }
        }
    }
}
