using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Errors;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Certificate input shared by the certificate cmdlets: -Sha1 (alias Thumbprint, so X509Certificate2 objects
/// bind by property name too) with -PublicKeySha1, or -Certificate objects from the pipeline, whose hashes the
/// TIE layer computes (<see cref="TieCertificateId.FromCertificate"/>).
/// </summary>
public abstract class TieCertificateCmdletBase : TieBulkCmdletBase
{
    internal const string Sha1Set = "Sha1";
    internal const string CertificateSet = "Certificate";

    [Parameter(ParameterSetName = Sha1Set, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Thumbprint")]
    [ValidateNotNullOrEmpty]
    public string Sha1 { get; set; } = "";

    [Parameter(ParameterSetName = Sha1Set, ValueFromPipelineByPropertyName = true)]
    public string? PublicKeySha1 { get; set; }

    [Parameter(ParameterSetName = CertificateSet, Mandatory = true, ValueFromPipeline = true)]
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Queue the work for one certificate; <paramref name="target"/> is the input as given.</summary>
    private protected abstract void ProcessCertificate(TieCertificateId certificate, object target);

    protected override void ProcessRecord()
    {
        var target = ParameterSetName == CertificateSet ? (object)Certificate! : Sha1;
        TieCertificateId certificate;
        try
        {
            certificate = ParameterSetName == CertificateSet
                ? TieCertificateId.FromCertificate(Certificate!)
                : TieCertificateId.Parse(Sha1, PublicKeySha1);
        }
        catch (TieHashFormatException e)
        {
            EnqueueMessage(new PipelineMessage.Error(ErrorCatalog.Create(ErrorCatalog.InvalidHash, ErrorCategory.InvalidArgument, target,
                $"'{e.Value}' is not a valid SHA-1: {e.Reason}", e)));
            return;
        }
        ProcessCertificate(certificate, target);
    }
}
