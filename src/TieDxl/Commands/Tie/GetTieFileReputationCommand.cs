using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

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
    /// <summary>The oldest cached answer to accept (at most the session's maximum age, 10 minutes by default).</summary>
    [Parameter]
    [ValidateMaxAge]
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Ask TIE about every file, not the session's cache (inputs naming the same file still share one request).</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    private protected override string ProgressActivity => "Get-TieFileReputation";

    private protected override (TimeSpan? MaxAge, bool NoCache) CacheChoice => (MaxAge, NoCache);

    private protected override void ProcessItem(TieFileInput input)
    {
        var tie = Tie;
        var timeout = Timeout;
        var options = LookupOptions;
        EnqueueFile(input, ct => LookUpAsync(tie, input, options, timeout, ct));
    }

    /// <summary>The whole work of one item, in one async method (the cmdlet's only state machine per lookup).</summary>
    private static async Task<PipelineMessage> LookUpAsync(TieClient tie, TieFileInput input, TieLookupOptions options, TimeSpan timeout, CancellationToken ct)
    {
        var hashes = await HashesOf(input, ct).ConfigureAwait(false);
        var result = await tie.GetFileReputationAsync(hashes, options, timeout, ct).ConfigureAwait(false);
        return new PipelineMessage.Output(new TieFileReputation(result, input.Name, input.DisplayPath));
    }
}
