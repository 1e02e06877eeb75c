using System.Management.Automation;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>The parameters the cmdlets that set a file's reputation share: the trust level, the name TIE shows, a comment, -PassThru.</summary>
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

    /// <summary>Write a result per file: Sent, Skipped or Failed, with the reason.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override string? ParameterFileName => FileName;

    private protected override bool CompletesGivenHashes => true;
}
