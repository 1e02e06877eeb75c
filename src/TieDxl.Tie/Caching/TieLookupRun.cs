namespace TieDxl.Tie.Caching;

/// <summary>
/// One command run's scope of sharing: lookups that ask with the same hashes share one request, in flight or
/// answered, failures included, whether or not the session's cache is on; it also counts what the run asked of TIE.
/// Bounded (<see cref="TieRunSharing{TKey,TValue}"/>); make one per run and drop it at the end.
/// </summary>
public sealed class TieLookupRun
{
    private readonly int _capacity;
    private TieRunSharing<TieReputationKey, FileReputationResult>? _files;
    private TieRunSharing<TieReputationKey, CertificateReputationResult>? _certificates;
    private long _lookups, _requests, _cacheHits;

    public TieLookupRun(int capacity = TieRunSharing<TieReputationKey, FileReputationResult>.DefaultCapacity)
    {
        _capacity = capacity;
    }

    internal TieRunSharing<TieReputationKey, FileReputationResult> Files =>
        LazyInitializer.EnsureInitialized(ref _files, () => new TieRunSharing<TieReputationKey, FileReputationResult>(_capacity));

    internal TieRunSharing<TieReputationKey, CertificateReputationResult> Certificates =>
        LazyInitializer.EnsureInitialized(ref _certificates, () => new TieRunSharing<TieReputationKey, CertificateReputationResult>(_capacity));

    /// <summary>Lookups made in the run.</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    /// <summary>Requests of the run that reached TIE.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Lookups answered from the session's cache.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>Lookups answered by the request of an earlier lookup of the run.</summary>
    public long Shared => (_files?.SharedCount ?? 0) + (_certificates?.SharedCount ?? 0);

    internal void CountLookup() => Interlocked.Increment(ref _lookups);
    internal void CountRequest() => Interlocked.Increment(ref _requests);
    internal void CountCacheHit() => Interlocked.Increment(ref _cacheHits);
}
