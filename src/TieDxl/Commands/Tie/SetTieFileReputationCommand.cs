using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Set-TieFileReputation: sets the Enterprise reputation (provider 3), which overrides every other provider
/// across the enterprise and is never aged out. Each file is looked up first: when Enterprise already holds the trust
/// level it is Unchanged and nothing is sent (-Force sends anyway). Prefer Set-TieExternalReputation for automated feeds.
/// </summary>
[Cmdlet(VerbsCommon.Set, "TieFileReputation", DefaultParameterSetName = TieFileInputParameters.InputObjectSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TieSetReputationResult))]
public sealed class SetTieFileReputationCommand : TieFileSetCmdletBase
{
    private protected override string ProgressActivity => "Set-TieFileReputation";

    private protected override void ProcessItem(TieFileInput input)
    {
        if (!ShouldProcess(input.Describe(), $"Set the Enterprise reputation to {TrustLevel} (overrides every provider, enterprise-wide)"))
            return;
        var template = new TieEnterpriseReputationRequest(TrustLevel)
        {
            FileName = FileName ?? input.Name, Comment = Comment, Timeout = Timeout, Force = Force, Journal = Journal,
            Lookup = ChangeLookupOptions,
        };
        var tie = Tie;
        var outcomes = RunOutcomes;
        var passThru = PassThru.IsPresent;
        Func<TieSetOutcome, TieSetReputationResult>? Result(TieHashes hashes) => passThru
            ? outcome => new TieSetReputationResult(TieReputationProvider.Enterprise, hashes, template.FileName, input.DisplayPath, template.TrustLevel, outcome)
            : null;
        EnqueueFile(input, async ct =>
        {
            var hashes = await HashesOf(input, ct).ConfigureAwait(false);
            var outcome = TieJournalParameter.WithForceHint(await outcomes.GetOrStart(TieReputationKey.ForFile(hashes), (tie, request: template with { Hashes = hashes }, ct),
                static s => s.tie.SetEnterpriseReputationAsync(s.request, s.ct), out _).ConfigureAwait(false));
            var itemName = TieTargets.Describe(hashes, template.FileName);
            return SetOutcomeMessages(outcome, input.Target, itemName,
                TieJournalParameter.DoneVerbose(outcome, itemName, $"Enterprise reputation {template.TrustLevel} set for {itemName}."), Result(hashes));
        }, e => PassThruOutput(TieSetOutcome.Failed(e), Result(input.Hashes ?? TieHashes.Empty)));
    }
}
