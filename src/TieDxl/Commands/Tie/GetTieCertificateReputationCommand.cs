using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Commands.Tie;

/// <summary>Get-TieCertificateReputation: what GTI and the enterprise say about signing certificates.</summary>
[Cmdlet(VerbsCommon.Get, "TieCertificateReputation", DefaultParameterSetName = TieCertificateCmdletBase.CertificateSet)]
[OutputType(typeof(TieCertificateReputation))]
public sealed class GetTieCertificateReputationCommand : TieCertificateCmdletBase
{
    /// <summary>The oldest cached answer to accept (at most the session's maximum age, 10 minutes by default).</summary>
    [Parameter]
    [ValidateMaxAge]
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Ask TIE about every certificate, not the session's cache (inputs naming the same certificate still share one request).</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    private protected override string ProgressActivity => "Get-TieCertificateReputation";

    private protected override (TimeSpan? MaxAge, bool NoCache) CacheChoice => (MaxAge, NoCache);

    private protected override void ProcessCertificate(TieCertificateId certificate, object target)
    {
        var tie = Tie;
        var timeout = Timeout;
        var options = LookupOptions;
        Enqueue(target, certificate, async ct =>
        {
            var result = await tie.GetCertificateReputationAsync(certificate.Sha1, certificate.PublicKeySha1, options, timeout, ct).ConfigureAwait(false);
            return new PipelineMessage.Output(new TieCertificateReputation(result, certificate.Subject));
        });
    }
}
