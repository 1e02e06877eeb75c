using System.Management.Automation;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// The parameters the cmdlets that set a file's reputation share: the trust level, the name TIE shows, a comment,
/// -Force, -JournalPath, -PassThru.
/// </summary>
public abstract class TieFileSetCmdletBase : TieFileCmdletBase
{
    [Parameter(Mandatory = true)]
    public TrustLevel TrustLevel { get; set; }

    /// <summary>The file name TIE shows; defaults to the input's file name.</summary>
    [Parameter]
    [Alias("Name")]
    public string? FileName { get; set; }

    [Parameter]
    public string? Comment { get; set; }

    /// <summary>Send even when the provider already holds the trust level (and, for External reports, over another provider's verdict).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Append one JSON line per file to this journal, which Undo-TieReputation can undo.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    /// <summary>Write a result per file: Sent, Skipped, Unchanged or Failed, with the reason.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override string? ParameterFileName => FileName;

    private protected override bool CompletesGivenHashes => true;

    /// <summary>The oldest cached answer the lookup before the change may use (at most the session's maximum age).</summary>
    [Parameter]
    [ValidateMaxAge]
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Look each file up at TIE before changing it, not in the session's cache.</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    private protected override (TimeSpan? MaxAge, bool NoCache) CacheChoice => (MaxAge, NoCache);

    private protected override string? JournalPathParameter => JournalPath;
}
