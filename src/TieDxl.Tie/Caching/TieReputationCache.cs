using BitFaster.Caching.Lru;

namespace TieDxl.Tie.Caching;

/// <summary>
/// Answers the session has had from TIE, kept true by eviction: bounded by hashes held and by age.
/// <para>BitFaster.Caching's <see cref="FastConcurrentTLru{K,V}"/> holds them: a concurrent LRU bounded by capacity
/// with a time to live, lock-free on reads and allocation-free on hits; the in-box
/// <c>System.Runtime.Caching.MemoryCache</c> and <c>Microsoft.Extensions.Caching.Memory</c> trim by memory pressure
/// and timers rather than by a hard count, and allocate per read.</para>
/// <para>Each answer is one entry object reachable by each of the hashes it was asked with, so that an event naming
/// only one of a file's hashes finds it. An entry is served only while every one of its hashes still holds it: one
/// hash evicted (by an event, by the LRU, or taken by another answer) makes the whole entry invalid.</para>
/// <para>An answer is kept only if nothing was invalidated while its request was out (<see cref="Generation"/>):
/// TIE may have answered before a change whose event arrived first.</para>
/// </summary>
internal sealed class TieReputationCache<T> where T : TieReputationResult
{
    private readonly FastConcurrentTLru<TieHashKey, Entry> _entries;
    private long _generation;

    public TieReputationCache(int maxHashes, TimeSpan maxAge)
    {
        MaxAge = maxAge;
        _entries = new FastConcurrentTLru<TieHashKey, Entry>(maxHashes, maxAge);
    }

    /// <summary>The oldest answer the cache holds.</summary>
    public TimeSpan MaxAge { get; }

    /// <summary>Hashes held (a file asked by three hashes holds three).</summary>
    public int Count => _entries.Count;

    /// <summary>Grows with every invalidation; read before a request leaves, given back to <see cref="Add"/>.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>The answer asked with exactly <paramref name="key"/>, no older than <paramref name="maxAge"/>.</summary>
    public bool TryGet(in TieReputationKey key, TimeSpan maxAge, out T answer)
    {
        answer = null!;
        if (!_entries.TryGet(key.Primary, out var entry) || !entry.Key.Equals(key)) return false;
        if (DateTimeOffset.UtcNow - entry.Answer.RetrievedAt > maxAge) return false;
        for (var i = 1; i < key.Count; i++)
        {
            if (!_entries.TryGet(key[i], out var other) || !ReferenceEquals(other, entry)) return false;
        }
        answer = entry.Answer;
        return true;
    }

    /// <summary>Keeps <paramref name="answer"/> unless something was invalidated since <paramref name="generation"/>.</summary>
    public void Add(in TieReputationKey key, T answer, long generation)
    {
        if (Generation != generation) return;
        var entry = new Entry(key, answer);
        for (var i = 0; i < key.Count; i++) _entries.AddOrUpdate(key[i], entry);
        // An invalidation that ran while the entry went in may have missed some of its hashes: take it out again.
        if (Generation == generation) return;
        for (var i = 0; i < key.Count; i++) _entries.TryRemove(new KeyValuePair<TieHashKey, Entry>(key[i], entry));
    }

    /// <summary>Drops every answer asked with any of <paramref name="key"/>'s hashes; returns how many answers went.</summary>
    public int Invalidate(in TieReputationKey key)
    {
        Interlocked.Increment(ref _generation);
        Entry? first = null, second = null;
        var removed = 0;
        for (var i = 0; i < key.Count; i++)
        {
            if (!_entries.TryRemove(key[i], out var entry)) continue;
            // One answer reachable by several of the hashes counts once.
            if (ReferenceEquals(entry, first) || ReferenceEquals(entry, second)) continue;
            removed++;
            if (first is null) first = entry; else second = entry;
        }
        return removed;
    }

    /// <summary>Drops every answer.</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    private sealed class Entry(TieReputationKey key, T answer)
    {
        public TieReputationKey Key { get; } = key;
        public T Answer { get; } = answer;
    }
}
