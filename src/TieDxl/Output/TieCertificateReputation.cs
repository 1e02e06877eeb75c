using TieDxl.Tie;

namespace TieDxl;

/// <summary>Get-TieCertificateReputation's output: one object per certificate.</summary>
public sealed class TieCertificateReputation
{
    private readonly DateTimeOffset _retrievedAt;

    internal TieCertificateReputation(CertificateReputationResult result, string? subject)
    {
        Subject = subject;
        Sha1 = result.Sha1;
        PublicKeySha1 = result.PublicKeySha1;
        Reputations = TieProviderReputation.Wrap(result.Reputations);
        MostSevere = result.MostSevere?.TrustLevel ?? TrustLevel.NotSet;
        MostTrusted = result.MostTrusted?.TrustLevel ?? TrustLevel.NotSet;
        Gti = result.Gti?.TrustLevel;
        Enterprise = result.Enterprise?.TrustLevel;
        OverriddenFiles = result.Overridden?.Files.Select(f => f.Sha256 ?? f.Sha1 ?? f.Md5 ?? "").ToArray() ?? Array.Empty<string>();
        OverriddenFilesTruncated = result.Overridden?.Truncated ?? false;
        ServerTime = result.ServerTime?.UtcDateTime;
        Source = result.Source;
        _retrievedAt = result.RetrievedAt;
    }

    /// <summary>True when the answer came from the session's cache, not from a request to TIE.</summary>
    public bool FromCache => Source == TieAnswerSource.Cache;
    /// <summary>Tie (asked for this input), Shared (the request of an earlier input of the run naming the same certificate) or Cache.</summary>
    public TieAnswerSource Source { get; }
    /// <summary>When TIE gave the answer (UTC).</summary>
    public DateTime RetrievedAt => _retrievedAt.UtcDateTime;
    /// <summary>How old the answer is now.</summary>
    public TimeSpan Age => DateTimeOffset.UtcNow - _retrievedAt;

    /// <summary>The certificate's subject, when it came from a certificate object.</summary>
    public string? Subject { get; }
    public string Sha1 { get; }
    public string? PublicKeySha1 { get; }
    public TrustLevel MostSevere { get; }
    public TrustLevel MostTrusted { get; }
    public TrustLevel? Gti { get; }
    public TrustLevel? Enterprise { get; }
    public IReadOnlyList<TieProviderReputation> Reputations { get; }
    /// <summary>Files signed with this certificate that carry an Enterprise override (strongest hash each).</summary>
    public IReadOnlyList<string> OverriddenFiles { get; }
    public bool OverriddenFilesTruncated { get; }
    public DateTime? ServerTime { get; }

    public override string ToString() => $"SHA1:{Sha1}{(Subject is null ? "" : $" ({Subject})")}";
}
