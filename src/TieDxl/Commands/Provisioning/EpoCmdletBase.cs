using System.Management.Automation;
using System.Net;
using TieDxl.Dxl.Provisioning;

namespace TieDxl.Commands.Provisioning;

/// <summary>
/// The parameters of every cmdlet that talks to ePO, and the one way to make its client: ePO's certificate is
/// checked against the system trust or -EpoCaPath; -SkipCertificateCheck turns that off with a warning; each
/// command and HTTP status goes to the verbose stream, never the credentials.
/// </summary>
public abstract class EpoCmdletBase : TieDxlCmdletBase
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EpoCaPath { get; set; }

    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 60;

    /// <summary>A client for <paramref name="server"/> (host[:port]) signing in as <paramref name="credential"/>.</summary>
    private protected EpoClient CreateEpoClient(string server, PSCredential credential)
    {
        if (SkipCertificateCheck)
            WriteWarning($"-SkipCertificateCheck: ePO's TLS certificate is not checked; anyone between here and {server} can read the credentials and hand out a certificate.");
        // A bad server name or an unreadable -EpoCaPath fails here, before anything is asked or written.
        return Guard(() => new EpoClient(new EpoClientOptions
        {
            Server = server,
            Credential = new NetworkCredential(credential.UserName, credential.Password),
            CaFilePath = EpoCaPath is null ? null : ResolvePath(EpoCaPath),
            SkipCertificateCheck = SkipCertificateCheck,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
            Log = PostLog,
        }), EpoCaPath ?? server);
    }

    /// <summary>Runs an ePO call (or a provisioning step) on the pipeline thread; its failures stop the command.</summary>
    private protected T RunProvisioning<T>(Func<CancellationToken, Task<T>> work, object target) =>
        // The HTTP client has its own timeout per call; this bound covers a whole journey of calls.
        Run(work, target, TimeSpan.FromSeconds(TimeoutSec * 3));

    private protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
