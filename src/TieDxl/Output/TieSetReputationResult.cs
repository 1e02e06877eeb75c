using TieDxl.Tie;

namespace TieDxl.Output;

public enum TieSetReputationStatus
{
    /// <summary>The reputation was sent to TIE (and confirmed when -Verify was used).</summary>
    Sent,
    /// <summary>Another provider already has a definitive reputation; nothing was sent (-Force overrides).</summary>
    Skipped,
    /// <summary>Nothing was sent, or -Verify did not see TIE apply it; Reason says why.</summary>
    Failed,
}

/// <summary>-PassThru output of the Set-Tie*Reputation cmdlets: what happened to one file or certificate.</summary>
public sealed class TieSetReputationResult
{
    internal TieSetReputationResult(string provider, TieHashes hashes, string? name, string? path, TrustLevel trustLevel,
        TieSetReputationStatus status, string? reason, TieFileReputation? before = null, bool? verified = null)
    {
        Provider = provider;
        Name = name;
        Path = path;
        Md5 = hashes.Md5;
        Sha1 = hashes.Sha1;
        Sha256 = hashes.Sha256;
        TrustLevel = trustLevel;
        Status = status;
        Reason = reason;
        Before = before;
        Verified = verified;
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

    public override string ToString() => $"{Status}: {Name ?? Sha256 ?? Sha1 ?? Md5}";
}
