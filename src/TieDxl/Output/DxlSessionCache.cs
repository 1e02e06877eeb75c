using TieDxl.Tie.Caching;

namespace TieDxl;

/// <summary>
/// A session's reputation cache and request rate as Get-DxlSession shows them (<c>(Get-DxlSession).Cache</c>): a
/// snapshot taken when read.
/// </summary>
public sealed class DxlSessionCache
{
    internal DxlSessionCache(TieCacheStatistics statistics)
    {
        State = statistics.State;
        Reason = statistics.Reason;
        MaxAge = statistics.MaxAge;
        MaxEntries = statistics.MaxEntries;
        Entries = statistics.Entries;
        Hits = statistics.Hits;
        Misses = statistics.Misses;
        EvictionsByEvent = statistics.EvictionsByEvent;
        EvictionsByOwnChange = statistics.EvictionsByOwnChange;
        ClearsByReconnect = statistics.ClearsByReconnect;
        Requests = statistics.Requests;
        MaxRequestsPerSecond = statistics.MaxRequestsPerSecond;
        RateLimitWaits = statistics.RateLimitWaits;
    }

    /// <summary>Off, NotStarted (listens to TIE's change events from the first lookup), On, or RunOnly (see <see cref="Reason"/>).</summary>
    public TieCacheState State { get; }

    /// <summary>Why answers are kept only within one command, or null.</summary>
    public string? Reason { get; }

    /// <summary>The oldest answer the cache serves; zero when the cache is off.</summary>
    public TimeSpan MaxAge { get; }

    /// <summary>How many hashes the cache holds at most (a file asked with three hashes takes three).</summary>
    public int MaxEntries { get; }

    /// <summary>Hashes held now.</summary>
    public int Entries { get; }

    /// <summary>Lookups answered from the cache.</summary>
    public long Hits { get; }

    /// <summary>Lookups the cache could not answer.</summary>
    public long Misses { get; }

    /// <summary>Answers dropped because TIE announced a reputation change.</summary>
    public long EvictionsByEvent { get; }

    /// <summary>Answers dropped because this session set or reported a reputation.</summary>
    public long EvictionsByOwnChange { get; }

    /// <summary>Times the cache was emptied because the session reconnected (change events of the outage were missed).</summary>
    public long ClearsByReconnect { get; }

    /// <summary>Lookups of the session that reached TIE.</summary>
    public long Requests { get; }

    /// <summary>The session's cap on lookups per second, or null for none.</summary>
    public double? MaxRequestsPerSecond { get; }

    /// <summary>Lookups that waited for the session's rate limit.</summary>
    public long RateLimitWaits { get; }

    public override string ToString() =>
        State switch
        {
            TieCacheState.Off => $"off; {Requests} request(s)",
            TieCacheState.RunOnly => $"within one command only; {Requests} request(s)",
            _ => $"{State}: {Entries}/{MaxEntries}, {Hits} hit(s), {Misses} miss(es), {EvictionsByEvent} evicted by event; {Requests} request(s)",
        };
}
