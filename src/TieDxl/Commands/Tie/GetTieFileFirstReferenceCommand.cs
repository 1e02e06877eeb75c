using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>Get-TieFileFirstReference: the systems where a file was first seen ("where has this file run").</summary>
[Cmdlet(VerbsCommon.Get, "TieFileFirstReference", DefaultParameterSetName = TieFileInputParameters.InputObjectSet)]
[OutputType(typeof(TieFirstReferenceRecord))]
public sealed class GetTieFileFirstReferenceCommand : TieFileCmdletBase
{
    /// <summary>At most this many systems per file (TIE allows 1 to 5000).</summary>
    [Parameter]
    [ValidateRange(1, 5000)]
    public int QueryLimit { get; set; } = TieConstants.DefaultQueryLimit;

    private protected override string ProgressActivity => "Get-TieFileFirstReference";

    private protected override void ProcessItem(TieFileInput input)
    {
        var limit = QueryLimit;
        var tie = Tie;
        var timeout = Timeout;
        EnqueueFile(input, async ct =>
        {
            var hashes = await HashesOf(input, ct).ConfigureAwait(false);
            var references = await tie.GetFileFirstReferencesAsync(hashes, limit, timeout, ct).ConfigureAwait(false);
            return TieFirstReferenceRecord.Messages(references, TieTargets.Describe(hashes, input.Name), input.Name);
        });
    }
}
