using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TieDxl.Dxl.Tls;

/// <summary>
/// Validates a broker's certificate as the reference clients do: chain built against the configured CA bundle
/// only (custom root trust, no revocation fetch), host-name mismatch accepted unless strict.
/// </summary>
public sealed class DxlServerCertificateValidator(X509Certificate2Collection trustedRoots, bool strictHostName)
{
    public X509Certificate2Collection TrustedRoots { get; } = trustedRoots;
    public bool StrictHostName { get; } = strictHostName;

    /// <summary>Where the roots came from (e.g. the BrokerCertChain file), for messages. Optional.</summary>
    public string? TrustedRootsSource { get; init; }

    /// <summary>Null when the broker is acceptable; otherwise a sentence saying why not.</summary>
    public string? Check(X509Certificate2 serverCertificate, X509Chain? presentedChain, string targetHost, SslPolicyErrors sslPolicyErrors)
    {
        if (serverCertificate is null || (sslPolicyErrors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            return "the broker sent no certificate";
        if (TrustedRoots is null || TrustedRoots.Count == 0)
            return "no CA certificate is configured to validate the broker (BrokerCertChain is empty)";

        var reasons = new List<string>();
        using (var chain = new X509Chain())
        {
            var policy = chain.ChainPolicy;
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.AddRange(TrustedRoots);
            policy.RevocationMode = X509RevocationMode.NoCheck;
            policy.VerificationFlags = X509VerificationFlags.NoFlag;
            policy.VerificationTime = DateTime.Now;
            policy.DisableCertificateDownloads = true;
            if (presentedChain is not null)
            {
                foreach (var element in presentedChain.ChainElements)
                {
                    if (!element.Certificate.RawDataMemory.Span.SequenceEqual(serverCertificate.RawDataMemory.Span))
                        policy.ExtraStore.Add(element.Certificate);
                }
            }

            if (!chain.Build(serverCertificate))
                Describe(chain, serverCertificate, reasons);
        }

        if (StrictHostName && !string.IsNullOrEmpty(targetHost) && !MatchesHost(serverCertificate, targetHost))
        {
            var names = Names(serverCertificate);
            reasons.Add($"the broker's certificate does not match host name {targetHost} (it names {(names.Count == 0 ? "nothing" : string.Join(", ", names))})");
        }

        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    private void Describe(X509Chain chain, X509Certificate2 leaf, List<string> reasons)
    {
        var all = X509ChainStatusFlags.NoError;
        foreach (var s in chain.ChainStatus) all |= s.Status;
        var now = DateTime.Now;

        if ((all & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            var source = TrustedRootsSource is null ? "" : $" {TrustedRootsSource}";
            var cas = string.Join(", ", TrustedRoots.Select(c => c.Subject));
            reasons.Add($"the broker's certificate (subject {leaf.Subject}, issuer {leaf.Issuer}) is not signed by a CA in the configured bundle{source} <{cas}>");
        }

        for (var i = 0; i < chain.ChainElements.Count; i++)
        {
            var element = chain.ChainElements[i];
            var flags = X509ChainStatusFlags.NoError;
            foreach (var s in element.ChainElementStatus) flags |= s.Status;
            if ((flags & X509ChainStatusFlags.NotTimeValid) == 0) continue;
            var c = element.Certificate;
            var who = i == 0 ? "the broker's certificate" : $"the CA certificate {c.Subject} in the broker's chain";
            if (c.NotAfter < now) reasons.Add($"{who} expired on {DxlCertificates.FormatDate(c.NotAfter)}");
            else if (c.NotBefore > now) reasons.Add($"{who} is not yet valid until {DxlCertificates.FormatDate(c.NotBefore)}");
            else reasons.Add($"{who} is outside its validity period");
        }

        const X509ChainStatusFlags handled = X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain |
                                             X509ChainStatusFlags.NotTimeValid | X509ChainStatusFlags.NotTimeNested |
                                             X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation;
        var other = chain.ChainStatus.Where(s => (s.Status & ~handled) != 0)
            .Select(s => string.IsNullOrWhiteSpace(s.StatusInformation) ? s.Status.ToString() : s.StatusInformation.Trim())
            .Distinct()
            .ToList();
        if (other.Count > 0)
            reasons.Add($"the broker's certificate chain is not valid: {string.Join("; ", other)}");
        if (reasons.Count == 0)
            reasons.Add($"the broker's certificate chain is not valid ({all})");
    }

    private static bool MatchesHost(X509Certificate2 certificate, string host)
    {
        var h = host.Trim().TrimStart('[').TrimEnd(']');
        try
        {
            return certificate.MatchesHostname(h, allowWildcards: true, allowCommonName: true);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static List<string> Names(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var ext in certificate.Extensions)
        {
            if (ext.Oid?.Value != "2.5.29.17") continue;
            var san = ext as X509SubjectAlternativeNameExtension ?? new X509SubjectAlternativeNameExtension(ext.RawData, ext.Critical);
            names.AddRange(san.EnumerateDnsNames());
            names.AddRange(san.EnumerateIPAddresses().Select(ip => ip.ToString()));
        }
        var cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.IsNullOrEmpty(cn) && !names.Contains(cn, StringComparer.OrdinalIgnoreCase))
            names.Add("CN=" + cn);
        return names;
    }
}
