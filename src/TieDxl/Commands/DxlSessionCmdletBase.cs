using System.Management.Automation;

namespace TieDxl.Commands;

/// <summary>
/// Base of the commands that work through a session: <c>-Session</c> (an open session, its name or its id; the
/// runspace's default when not given) and <c>-TimeoutSec</c>, declared once here.
/// </summary>
public abstract class DxlSessionCmdletBase : TieDxlCmdletBase
{
    private int? _timeoutSec;
    private DxlSession? _session;

    [Parameter]
    [DxlSessionTransformation]
    [ArgumentCompleter(typeof(DxlSessionNameCompleter))]
    public DxlSession? Session { get; set; }

    /// <summary>Seconds to wait for each answer (what a command waits for is in its help).</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec
    {
        get => _timeoutSec ?? DefaultTimeoutSec;
        set => _timeoutSec = value;
    }

    /// <summary>-TimeoutSec when it is not given.</summary>
    private protected virtual int DefaultTimeoutSec => 30;

    /// <summary>True when -TimeoutSec was given (for commands whose default is "no limit").</summary>
    private protected bool HasTimeout => _timeoutSec is not null;

    /// <summary>-TimeoutSec as a time span.</summary>
    private protected TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSec);

    /// <summary>
    /// The session of this command (-Session, else the runspace's default), resolved on first use; terminating
    /// <c>DxlNotConnected</c> when there is none or it was closed.
    /// </summary>
    private protected DxlSession CurrentSession => _session ??= ResolveSession(Session);
}
