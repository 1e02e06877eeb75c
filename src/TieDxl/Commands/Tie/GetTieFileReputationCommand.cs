using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;

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

    private protected override void ProcessItem(TieFileInput input)
    {
        var tie = Tie;
        var timeout = Timeout;
        EnqueueFile(input, ct => LookUpAsync(tie, input, timeout, ct));
    }

    /// <summary>The whole work of one item, in one async method (the cmdlet's only state machine per lookup).</summary>
    private static async Task<PipelineMessage> LookUpAsync(TieClient tie, TieFileInput input, TimeSpan timeout, CancellationToken ct)
    {
        var hashes = await HashesOf(input, ct).ConfigureAwait(false);
        var result = await tie.GetFileReputationAsync(hashes, timeout, ct).ConfigureAwait(false);
        return new PipelineMessage.Output(new TieFileReputation(result, input.Name, input.DisplayPath));
    }
}
