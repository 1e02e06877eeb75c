namespace TieDxl.Tie.Caching;

/// <summary>
/// How one lookup (or one run of lookups) may be answered: from the session's cache and how old an answer may be,
/// shared with the run's other lookups, and at what rate requests may reach TIE. One object serves a whole run.
/// </summary>
public sealed class TieLookupOptions
{
    /// <summary>Ask TIE every time: no cache, no sharing, no rate limit (what the overloads without options do).</summary>
    public static TieLookupOptions Direct { get; } = new() { UseCache = false };

    /// <summary>Whether the session's cache may answer (and keeps what TIE answers). True by default.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>The oldest cached answer accepted; null takes the session's maximum age, which also bounds this.</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>The run whose lookups share requests by what they ask (and which counts them), or null.</summary>
    public TieLookupRun? Run { get; init; }

    /// <summary>
    /// Whether lookups of the run share requests (true by default). A run that changes reputations shares whole
    /// outcomes instead and turns this off: a later copy must not take an answer from before the first copy's change.
    /// </summary>
    public bool ShareWithinRun { get; init; } = true;

    /// <summary>The cap on requests per second that reach TIE, or null for none.</summary>
    public TieRequestRate? Rate { get; init; }
}
