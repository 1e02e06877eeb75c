using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>Set-TieCertificateReputation: sets the Enterprise reputation (provider 4) of a certificate, enterprise-wide.</summary>
[Cmdlet(VerbsCommon.Set, "TieCertificateReputation", DefaultParameterSetName = TieCertificateCmdletBase.CertificateSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TieSetReputationResult))]
public sealed class SetTieCertificateReputationCommand : TieCertificateCmdletBase
{
    [Parameter(Mandatory = true)]
    public TrustLevel TrustLevel { get; set; }

    [Parameter]
    public string? Comment { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override string ProgressActivity => "Set-TieCertificateReputation";

    private protected override void ProcessCertificate(TieCertificateId certificate, object target)
    {
        if (!ShouldProcess(certificate.ToString(), $"Set the Enterprise certificate reputation to {TrustLevel} (enterprise-wide)")) return;
        var request = new TieEnterpriseReputationRequest(TrustLevel) { Certificate = certificate, Comment = Comment, Timeout = Timeout };
        var tie = Tie;
        Func<TieSetOutcome, TieSetReputationResult>? result = PassThru.IsPresent
            ? outcome => new TieSetReputationResult(TieReputationProvider.Enterprise, certificate.Hashes, certificate.Subject, null, request.TrustLevel, outcome)
            : null;
        Enqueue(target, certificate, async ct =>
        {
            var outcome = await tie.SetEnterpriseReputationAsync(request, ct).ConfigureAwait(false);
            return SetOutcomeMessages(outcome, target, certificate.ToString(), $"Enterprise certificate reputation {request.TrustLevel} set for {certificate}.", result);
        }, e => PassThruOutput(TieSetOutcome.Failed(e), result));
    }
}
