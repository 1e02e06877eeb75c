using System.Management.Automation;
using TieDxl.Output;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>Get-TieCertificateReputation: what GTI and the enterprise say about signing certificates.</summary>
[Cmdlet(VerbsCommon.Get, "TieCertificateReputation", DefaultParameterSetName = TieCertificateCmdletBase.CertificateSet)]
[OutputType(typeof(TieCertificateReputation))]
public sealed class GetTieCertificateReputationCommand : TieCertificateCmdletBase
{
    private protected override string ProgressActivity => "Get-TieCertificateReputation";

    private protected override void ProcessCertificate(TieCertificateInput input) =>
        Enqueue(input, async ct =>
        {
            var result = await Tie.GetCertificateReputationAsync(input.Sha1, input.PublicKeySha1, Timeout, ct).ConfigureAwait(false);
            return new ItemOutcome { Output = new TieCertificateReputation(result, input.Subject) };
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


    private protected override void ProcessCertificate(TieCertificateInput input)
    {
        if (!ShouldProcess(input.ToString(), $"Set the Enterprise certificate reputation to {TrustLevel} (enterprise-wide)")) return;
        var trustLevel = TrustLevel;
        Enqueue(input, async ct =>
        {
            var hashes = TieHashes.FromHex(HashType.Sha1, input.Sha1);
            try
            {
                await Tie.SetCertificateReputationAsync(input.Sha1, trustLevel, input.PublicKeySha1, Comment, Timeout, ct).ConfigureAwait(false);
            }
            catch (TieException e)
            {
                return new ItemOutcome
                {
                    Error = TieErrors.FromException(e, input),
                    Output = PassThru ? new TieSetReputationResult("Enterprise", hashes, input.Subject, null, trustLevel, TieSetReputationStatus.Failed, e.Message) : null,
                };
            }
            return new ItemOutcome
            {
                Verbose = $"Enterprise certificate reputation {trustLevel} set for {input}.",
                Output = PassThru ? new TieSetReputationResult("Enterprise", hashes, input.Subject, null, trustLevel, TieSetReputationStatus.Sent, null) : null,
            };
        }, e => PassThru
            ? new TieSetReputationResult("Enterprise", TieHashes.FromHex(HashType.Sha1, input.Sha1), input.Subject, null, trustLevel, TieSetReputationStatus.Failed, e.Message)
            : null);
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

    private protected override void ProcessCertificate(TieCertificateInput input)
    {
        var limit = QueryLimit;
        Enqueue(input, async ct =>
        {
            var references = await Tie.GetCertificateFirstReferencesAsync(input.Sha1, input.PublicKeySha1, limit, Timeout, ct).ConfigureAwait(false);
            var (records, warning) = TieFirstReferenceRecord.From(references, input.ToString(), input.Subject);
            return new ItemOutcome { Output = records, Warnings = warning is null ? null : [warning] };
        });
    }
}
