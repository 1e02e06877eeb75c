namespace TieDxl.Tie;

/// <summary>What happened to one reputation change.</summary>
public enum TieSetReputationStatus
{
    /// <summary>The reputation was sent to TIE (and confirmed when verification was asked for).</summary>
    Sent,
    /// <summary>Another provider already has a definitive reputation; nothing was sent (forcing overrides).</summary>
    Skipped,
    /// <summary>Nothing was sent, or verification did not see TIE apply it; the reason says why.</summary>
    Failed,
    /// <summary>The provider already holds the requested trust level; nothing was sent, so nothing was broadcast (forcing sends anyway).</summary>
    Unchanged,
}

/// <summary>
/// The outcome of one reputation change workflow (External report, Enterprise file or certificate reputation).
/// A failed call is an outcome, not an exception: <see cref="Error"/> says why, <see cref="Reason"/> in one line.
/// </summary>
/// <param name="Status">Sent, Skipped, Unchanged or Failed.</param>
/// <param name="Reason">Why it was skipped or failed; null when sent.</param>
public sealed record TieSetOutcome(TieSetReputationStatus Status, string? Reason = null)
{
    /// <summary>The lookup the decision was based on (null when none was made or TIE knew nothing).</summary>
    public FileReputationResult? Before { get; init; }

    /// <summary>True when TIE reported the new reputation in time; false when it did not; null when not verified.</summary>
    public bool? Verified { get; init; }

    /// <summary>Why it failed: a <see cref="TieException"/> (a <see cref="TieVerificationException"/> when only the check failed), or another error.</summary>
    public Exception? Error { get; init; }

    /// <summary>The file name that went to TIE (may be the hash when no name was given).</summary>
    public string? SentFileName { get; init; }

    /// <summary>The provider changed: 15 External, 3 Enterprise (files), 4 Enterprise (certificates); 0 when unknown.</summary>
    public int ProviderId { get; init; }

    /// <summary>The provider's trust level before (NotSet where it had none); null when it was not looked up.</summary>
    public TrustLevel? TrustLevelBefore { get; init; }

    /// <summary>The provider's trust level after, as far as this client knows: the one sent when Sent, else the one before.</summary>
    public TrustLevel? TrustLevelAfter { get; init; }

    public static TieSetOutcome Sent(bool? verified = null) => new(TieSetReputationStatus.Sent) { Verified = verified };

    public static TieSetOutcome Failed(Exception error, string? reason = null) =>
        new(TieSetReputationStatus.Failed, reason ?? error.Message) { Error = error };
}

/// <summary>An External report went out but TIE did not show it in time.</summary>
public sealed class TieVerificationException : TieException
{
    public TieVerificationException(string topic, TrustLevel trustLevel, TimeSpan within)
        : base($"sent, but TIE did not report External = {trustLevel} within {within.TotalSeconds:0.###} s: is the External Reputation " +
               "Provider enabled in the TIE server policy, and is this client authorised for 'TIE Server Set External Reputation'?", topic, null)
    {
        TrustLevel = trustLevel;
        Within = within;
    }

    public override TieErrorKind Kind => TieErrorKind.NotVerified;
    public TrustLevel TrustLevel { get; }
    public TimeSpan Within { get; }
}
