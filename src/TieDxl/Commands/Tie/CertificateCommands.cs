using System.Management.Automation;
using TieDxl.Output;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>Get-TieCertificateReputation: what GTI and the enterprise say about signing certificates.</summary>
[Cmdlet(VerbsCommon.Get, "TieCertificateReputation", DefaultParameterSetName = TieCertificateCmdletBase.CertificateSet)]
[OutputType(typeof(TieCertificateReputation))]
public sealed class GetTieCertificateReputationCommand : TieCertificateCmdletBase
{
    private protected override string ProgressActivity => "Get-TieCertificateReputation";

    private protected override void ProcessCertificate(TieCertificateId certificate, object target) =>
        Enqueue(target, certificate.ToString(), async ct =>
        {
            var result = await Tie.GetCertificateReputationAsync(certificate.Sha1, certificate.PublicKeySha1, null, ct).ConfigureAwait(false);
            return new PipelineMessage.Output(new TieCertificateReputation(result, certificate.Subject));
        });
}

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
        var request = new TieEnterpriseReputationRequest(TrustLevel) { Certificate = certificate, Comment = Comment };
        var passThru = PassThru.IsPresent;
        PipelineMessage? Result(TieSetOutcome outcome) => passThru
            ? new PipelineMessage.Output(new TieSetReputationResult("Enterprise", certificate.Hashes, certificate.Subject, null, request.TrustLevel, outcome))
            : null;
        Enqueue(target, certificate.ToString(), async ct =>
        {
            var outcome = await Tie.SetEnterpriseReputationAsync(request, ct).ConfigureAwait(false);
            return PipelineMessage.Of(
                SetOutcomeMessage(outcome, target, certificate.ToString(), $"Enterprise certificate reputation {request.TrustLevel} set for {certificate}."),
                Result(outcome));
        }, e => Result(TieSetOutcome.Failed(e)));
    }
}

/// <summary>Get-TieCertificateFirstReference: the systems where files signed by a certificate were first seen.</summary>
[Cmdlet(VerbsCommon.Get, "TieCertificateFirstReference", DefaultParameterSetName = TieCertificateCmdletBase.CertificateSet)]
[OutputType(typeof(TieFirstReferenceRecord))]
public sealed class GetTieCertificateFirstReferenceCommand : TieCertificateCmdletBase
{
    [Parameter]
    [ValidateRange(1, 5000)]
    public int QueryLimit { get; set; } = TieConstants.DefaultQueryLimit;

    private protected override string ProgressActivity => "Get-TieCertificateFirstReference";

    private protected override void ProcessCertificate(TieCertificateId certificate, object target)
    {
        var limit = QueryLimit;
        Enqueue(target, certificate.ToString(), async ct =>
        {
            var references = await Tie.GetCertificateFirstReferencesAsync(certificate.Sha1, certificate.PublicKeySha1, limit, null, ct).ConfigureAwait(false);
            return TieFirstReferenceRecord.Messages(references, certificate.ToString(), certificate.Subject);
        });
    }
}
