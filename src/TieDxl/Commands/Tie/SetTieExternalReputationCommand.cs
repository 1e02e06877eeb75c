using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Set-TieExternalReputation: the OpenDXL "set external reputation" workflow. Each file is looked up first; when
/// External already holds the trust level it is Unchanged, when a provider other than External already has a
/// definitive verdict it is skipped (with a warning); -Force sends in both cases.
/// Otherwise the External report (provider 15) is published. -Verify then waits until TIE reports it.
/// </summary>
[Cmdlet(VerbsCommon.Set, "TieExternalReputation", DefaultParameterSetName = TieFileInputParameters.InputObjectSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TieSetReputationResult))]
public sealed class SetTieExternalReputationCommand : TieFileSetCmdletBase
{
    private int _adviceGiven;

    [Parameter]
    public FileType FileType { get; set; } = FileType.None;

    /// <summary>After sending, look the file up until TIE reports the External reputation (or -VerifyTimeoutSec passes).</summary>
    [Parameter]
    public SwitchParameter Verify { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int VerifyTimeoutSec { get; set; } = 30;

    private protected override string ProgressActivity => "Set-TieExternalReputation";

    private protected override void ProcessItem(TieFileInput input)
    {
        if (!ShouldProcess(input.Describe(), $"Set External reputation to {TrustLevel}{(Force ? " (even over other providers' verdicts)" : " unless another provider decided")}"))
            return;

        // Built here, on the pipeline thread: the worker reads no cmdlet property.
        var template = new TieExternalReportRequest(TieHashes.Empty, TrustLevel)
        {
            FileType = FileType,
            FileName = FileName ?? input.Name,
            Comment = Comment,
            Force = Force,
            KnownReputation = input.Known,
            VerifyWithin = Verify ? TimeSpan.FromSeconds(VerifyTimeoutSec) : null,
            Timeout = Timeout,
            Journal = Journal,
            Lookup = ChangeLookupOptions,
        };
        var tie = Tie;
        var outcomes = RunOutcomes;
        var passThru = PassThru.IsPresent;
        Func<TieSetOutcome, TieSetReputationResult>? Result(TieHashes hashes) => passThru
            ? outcome => new TieSetReputationResult(TieReputationProvider.External, hashes, template.FileName, input.DisplayPath, template.TrustLevel, outcome)
            : null;
        EnqueueFile(input, async ct =>
        {
            var hashes = await HashesOf(input, ct).ConfigureAwait(false);
            var request = template with { Hashes = hashes };
            var advice = NewAdvice(TieClient.CheckExternalReport(hashes, request.FileName, request.FileType));
            var outcome = TieJournalParameter.WithForceHint(await outcomes.GetOrStart(TieReputationKey.ForFile(hashes), (tie, request, ct),
                static s => s.tie.ReportExternalReputationAsync(s.request, s.ct), out _).ConfigureAwait(false));
            var itemName = TieTargets.Describe(hashes, request.FileName);
            return PipelineMessage.Of(advice, SetOutcomeMessages(outcome, input.Target, itemName, TieJournalParameter.DoneVerbose(outcome, itemName,
                $"External reputation {request.TrustLevel} sent for {TieTargets.Describe(hashes, outcome.SentFileName)}."), Result(hashes)));
        }, e => PassThruOutput(TieSetOutcome.Failed(e), Result(input.Hashes ?? TieHashes.Empty)));
    }

    /// <summary>The advice not given yet in this command, as warnings (once per command, not once per file).</summary>
    private PipelineMessage? NewAdvice(TieExternalReportAdvice advice)
    {
        int before, after;
        do
        {
            before = _adviceGiven;
            after = before | (int)advice;
        } while (Interlocked.CompareExchange(ref _adviceGiven, after, before) != before);
        var fresh = (TieExternalReportAdvice)(after & ~before);
        if (fresh == TieExternalReportAdvice.None) return null;
        var warnings = new List<PipelineMessage>();
        if (fresh.HasFlag(TieExternalReportAdvice.NoFileName))
            warnings.Add(new PipelineMessage.Warning("Some files have no name (TIE servers ignore External reports without one): they are sent with their hash as the name. Use -FileName."));
        if (fresh.HasFlag(TieExternalReportAdvice.FewHashTypes))
            warnings.Add(new PipelineMessage.Warning("Some files have fewer than three hash types: TIE then keeps an incomplete record that later reports cannot complete. Pipe files or Get-FileHash for MD5, SHA1 and SHA256."));
        if (fresh.HasFlag(TieExternalReportAdvice.NoFileType))
            warnings.Add(new PipelineMessage.Warning("No -FileType given: TIE records type NONE. Give the real type (for example PeExe) when you know it."));
        return PipelineMessage.Of(warnings.ToArray());
    }
}
