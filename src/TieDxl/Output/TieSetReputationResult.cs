using TieDxl.Tie;

namespace TieDxl;

/// <summary>-PassThru output of the Set-Tie*Reputation cmdlets: what happened to one file or certificate.</summary>
public sealed class TieSetReputationResult
{
    /// <summary>The result of one change: which provider, the item (hashes, name, path) and the workflow's outcome.</summary>
    internal TieSetReputationResult(TieReputationProvider provider, TieHashes hashes, string? name, string? path, TrustLevel trustLevel, TieSetOutcome outcome)
    {
        Provider = provider.ToString();
        Name = name;
        Path = path;
        Md5 = hashes.Md5;
        Sha1 = hashes.Sha1;
        Sha256 = hashes.Sha256;
        TrustLevel = trustLevel;
        Status = outcome.Status;
        Reason = outcome.Reason;
        Before = outcome.Before is { } before ? new TieFileReputation(before, name, path) : null;
        Verified = outcome.Verified;
        TrustLevelBefore = outcome.TrustLevelBefore;
        TrustLevelAfter = outcome.TrustLevelAfter;
    }

    public TieSetReputationStatus Status { get; }
    /// <summary>External or Enterprise.</summary>
    public string Provider { get; }
    public TrustLevel TrustLevel { get; }
    public string? Name { get; }
    public string? Path { get; }
    public string? Md5 { get; }
    public string? Sha1 { get; }
    public string? Sha256 { get; }
    public string? Reason { get; }
    /// <summary>-Verify: true when TIE reported the new reputation in time; null without -Verify.</summary>
    public bool? Verified { get; }
    /// <summary>The lookup the decision was based on (null when none was made).</summary>
    public TieFileReputation? Before { get; }
    /// <summary>The provider's trust level before (NotSet where it had none); null when it was not looked up (-Force without a journal).</summary>
    public TrustLevel? TrustLevelBefore { get; }
    /// <summary>The provider's trust level after, as far as this client knows: the one sent when Sent, else the one before.</summary>
    public TrustLevel? TrustLevelAfter { get; }

    public override string ToString() => $"{Status}: {Name ?? Sha256 ?? Sha1 ?? Md5}";
}
