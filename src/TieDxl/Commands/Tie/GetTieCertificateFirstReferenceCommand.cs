using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

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
        var tie = Tie;
        var timeout = Timeout;
        Enqueue(target, certificate, async ct =>
        {
            var references = await tie.GetCertificateFirstReferencesAsync(certificate.Sha1, certificate.PublicKeySha1, limit, timeout, ct).ConfigureAwait(false);
            return TieFirstReferenceRecord.Messages(references, certificate.ToString(), certificate.Subject);
        });
    }
}
