namespace TieDxl.Tie.Caching;

/// <summary>Whether the session's reputation cache can answer lookups.</summary>
public enum TieCacheState
{
    /// <summary>Turned off for the session (maximum age zero).</summary>
    Off = 0,

    /// <summary>On, not used yet: it starts listening to TIE's change events at the first lookup that may use it.</summary>
    NotStarted = 1,

    /// <summary>On and kept true by TIE's reputation-change events, the session's own changes and reconnects.</summary>
    On = 2,

    /// <summary>The change events could not be subscribed, so nothing is kept beyond one command run (see the reason).</summary>
    RunOnly = 3,
}

/// <summary>The session's reputation cache and request rate, as counted since the session opened.</summary>
public sealed record TieCacheStatistics
{
    public TieCacheState State { get; init; }

    /// <summary>Why the cache is limited to one run, or null.</summary>
    public string? Reason { get; init; }

    /// <summary>The oldest answer the cache serves (zero when off).</summary>
    public TimeSpan MaxAge { get; init; }

    /// <summary>How many hashes the cache holds at most (a file asked with three hashes takes three).</summary>
    public int MaxEntries { get; init; }

    /// <summary>Hashes held now (files and certificates).</summary>
    public int Entries { get; init; }

    public long Hits { get; init; }
    public long Misses { get; init; }

    /// <summary>Answers dropped because TIE announced a change (repchange events).</summary>
    public long EvictionsByEvent { get; init; }

    /// <summary>Answers dropped because this session set or reported a reputation.</summary>
    public long EvictionsByOwnChange { get; init; }

    /// <summary>Times the whole cache was cleared because the session reconnected (events of the outage were missed).</summary>
    public long ClearsByReconnect { get; init; }

    /// <summary>Lookups that reached TIE.</summary>
    public long Requests { get; init; }

    /// <summary>The session's cap on lookups per second, or null.</summary>
    public double? MaxRequestsPerSecond { get; init; }

    /// <summary>Lookups that waited for the session's rate limit.</summary>
    public long RateLimitWaits { get; init; }
}
