using System.Management.Automation;
using TieDxl.Pipeline;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Get-TieFileReputation: looks files up in TIE, many at once, results in input order. Input: hash strings,
/// Get-FileHash output, Get-ChildItem files (MD5, SHA-1 and SHA-256 computed in one read), hashtables, objects
/// with Md5/Sha1/Sha256 properties, or the -Hash, -Md5/-Sha1/-Sha256, -Path and -LiteralPath parameters.
/// </summary>
[Cmdlet(VerbsCommon.Get, "TieFileReputation", DefaultParameterSetName = TieFileInputParameters.InputObjectSet)]
[OutputType(typeof(TieFileReputation))]
public sealed class GetTieFileReputationCommand : TieFileCmdletBase
{
    private protected override string ProgressActivity => "Get-TieFileReputation";

    private protected override void ProcessItem(TieFileInput input) =>
        EnqueueFile(input, async (hashes, ct) =>
        {
            var result = await Tie.GetFileReputationAsync(hashes, null, ct).ConfigureAwait(false);
            return new PipelineMessage.Output(new TieFileReputation(result, input.Name, input.DisplayPath));
        });
}
