using System.Management.Automation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>A certificate to work on: its SHA-1, optionally its public key's SHA-1, and a subject to show.</summary>
internal sealed record TieCertificateInput(string Sha1, string? PublicKeySha1, string? Subject, object Target)
{
    public override string ToString() => $"SHA1:{Sha1}{(Subject is null ? "" : $" ({Subject})")}";
}

/// <summary>
/// Certificate input shared by the certificate cmdlets: -Sha1 (alias Thumbprint, so X509Certificate2 objects
/// bind by property name too) with -PublicKeySha1, or -Certificate objects from the pipeline, whose hashes are
/// computed here (SHA-1 of the DER certificate, SHA-1 of the public key).
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

    private protected abstract void ProcessCertificate(TieCertificateInput input);

    protected override void ProcessRecord()
    {
        TieCertificateInput input;
        try
        {
            input = ParameterSetName == CertificateSet
                ? new TieCertificateInput(Certificate!.Thumbprint.ToLowerInvariant(), Convert.ToHexString(SHA1.HashData(Certificate.GetPublicKey())).ToLowerInvariant(), Certificate.Subject, Certificate)
                : new TieCertificateInput(TieHashes.NormalizeHex(HashType.Sha1, Sha1.Trim()),
                    string.IsNullOrWhiteSpace(PublicKeySha1) ? null : TieHashes.NormalizeHex(HashType.Sha1, PublicKeySha1.Trim()), null, Sha1);
        }
        catch (TieHashFormatException e)
        {
            var target = ParameterSetName == CertificateSet ? (object)Certificate! : Sha1;
            EnqueueOutcome(new ItemOutcome { Error = DxlErrors.Create(Pipeline.TieFileInputResolver.InvalidHash, ErrorCategory.InvalidArgument, target, $"'{e.Value}' is not a valid SHA-1: {e.Reason}", e) });
            return;
        }
        ProcessCertificate(input);
    }
}
