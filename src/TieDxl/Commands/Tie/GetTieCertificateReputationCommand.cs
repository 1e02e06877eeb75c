using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>Get-TieCertificateReputation: what GTI and the enterprise say about signing certificates.</summary>
[Cmdlet(VerbsCommon.Get, "TieCertificateReputation", DefaultParameterSetName = TieCertificateCmdletBase.CertificateSet)]
[OutputType(typeof(TieCertificateReputation))]
public sealed class GetTieCertificateReputationCommand : TieCertificateCmdletBase
{
    private protected override string ProgressActivity => "Get-TieCertificateReputation";

    private protected override void ProcessCertificate(TieCertificateId certificate, object target)
    {
        var tie = Tie;
        var timeout = Timeout;
        Enqueue(target, certificate, async ct =>
        {
            var result = await tie.GetCertificateReputationAsync(certificate.Sha1, certificate.PublicKeySha1, timeout, ct).ConfigureAwait(false);
            return new PipelineMessage.Output(new TieCertificateReputation(result, certificate.Subject));
        });
    }
}
