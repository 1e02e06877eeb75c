using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Set-TieCertificateReputation: sets the Enterprise reputation (provider 4) of a certificate, enterprise-wide. Each
/// certificate is looked up first: when Enterprise already holds the trust level it is Unchanged (-Force sends anyway).
/// </summary>
[Cmdlet(VerbsCommon.Set, "TieCertificateReputation", DefaultParameterSetName = TieCertificateCmdletBase.CertificateSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TieSetReputationResult))]
public sealed class SetTieCertificateReputationCommand : TieCertificateCmdletBase
{
    [Parameter(Mandatory = true)]
    public TrustLevel TrustLevel { get; set; }

    [Parameter]
    public string? Comment { get; set; }

    /// <summary>Send even when Enterprise already holds the trust level.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Append one JSON line per certificate to this journal, which Undo-TieReputation can undo.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The oldest cached answer the lookup before the change may use (at most the session's maximum age).</summary>
    [Parameter]
    [ValidateMaxAge]
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Look each certificate up at TIE before changing it, not in the session's cache.</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    private protected override (TimeSpan? MaxAge, bool NoCache) CacheChoice => (MaxAge, NoCache);


    private protected override string ProgressActivity => "Set-TieCertificateReputation";

    private protected override string? JournalPathParameter => JournalPath;

    private protected override void ProcessCertificate(TieCertificateId certificate, object target)
    {
        if (!ShouldProcess(certificate.ToString(), $"Set the Enterprise certificate reputation to {TrustLevel} (enterprise-wide)")) return;
        var request = new TieEnterpriseReputationRequest(TrustLevel)
        {
            Certificate = certificate, Comment = Comment, Timeout = Timeout, Force = Force, Journal = Journal,
            Lookup = ChangeLookupOptions,
        };
        var tie = Tie;
        var outcomes = RunOutcomes;
        Func<TieSetOutcome, TieSetReputationResult>? result = PassThru.IsPresent
            ? outcome => new TieSetReputationResult(TieReputationProvider.Enterprise, certificate.Hashes, certificate.Subject, null, request.TrustLevel, outcome)
            : null;
        Enqueue(target, certificate, async ct =>
        {
            var outcome = TieJournalParameter.WithForceHint(await outcomes.GetOrStart(TieReputationKey.ForCertificate(certificate.Sha1, certificate.PublicKeySha1),
                (tie, request, ct), static s => s.tie.SetEnterpriseReputationAsync(s.request, s.ct), out _).ConfigureAwait(false));
            return SetOutcomeMessages(outcome, target, certificate.ToString(),
                TieJournalParameter.DoneVerbose(outcome, certificate.ToString(), $"Enterprise certificate reputation {request.TrustLevel} set for {certificate}."), result);
        }, e => PassThruOutput(TieSetOutcome.Failed(e), result));
    }
}
