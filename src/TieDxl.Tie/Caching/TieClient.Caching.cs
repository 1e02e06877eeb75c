using System.Globalization;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Tie.Caching;

namespace TieDxl.Tie;

/// <summary>
/// The lookups that may be answered without asking TIE: from the session's reputation cache (kept true by TIE's
/// reputation-change events, this client's own changes and reconnects), from a request another lookup of the same
/// run already made, and under a cap on requests per second. The overloads without <see cref="TieLookupOptions"/>
/// always ask TIE.
/// </summary>
public sealed partial class TieClient
{
    /// <summary>
    /// How old a cached answer may be by default: ten minutes. Change events keep the cache true, so the age only
    /// bounds what a lost event (events are not acknowledged) could leave stale; ten minutes is short next to how
    /// long a bulk scan or a scheduled job reuses the same files, and long enough for every repeat within one.
    /// </summary>
    public static readonly TimeSpan DefaultCacheMaxAge = TimeSpan.FromMinutes(10);

    /// <summary>Hashes the cache holds by default: 100,000 (some 45 MB at most; a file asked with three hashes takes three).</summary>
    public const int DefaultCacheMaxEntries = 100_000;

    private TieReputationCache<FileReputationResult>? _fileCache;
    private TieReputationCache<CertificateReputationResult>? _certificateCache;
    private int _cacheMaxEntries = DefaultCacheMaxEntries;
    // Subscribing to the change events, once per client; its outcome decides whether the cache may answer.
    private Task? _coherence;
    private volatile string? _runOnlyReason;
    private long _hits, _misses, _evictionsByEvent, _evictionsByOwnChange, _clearsByReconnect, _requests;

    /// <summary>The cap on lookups per second that reach TIE when a lookup's options name none; null for none.</summary>
    public TieRequestRate? DefaultRequestRate { get; set; }

    /// <summary>
    /// Sets the session cache's bounds; a zero <paramref name="maxAge"/> turns it off. Drops what the cache held.
    /// </summary>
    public void ConfigureCache(TimeSpan maxAge, int maxEntries)
    {
        if (maxAge < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(maxAge), maxAge, "The maximum age cannot be negative.");
        if (maxEntries < 3) throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "The cache must hold at least 3 entries.");
        _cacheMaxEntries = maxEntries;
        var on = maxAge > TimeSpan.Zero;
        Volatile.Write(ref _fileCache, on ? new TieReputationCache<FileReputationResult>(maxEntries, maxAge) : null);
        Volatile.Write(ref _certificateCache, on ? new TieReputationCache<CertificateReputationResult>(maxEntries, maxAge) : null);
    }

    /// <summary>The cache and the request rate as counted since the client was made.</summary>
    public TieCacheStatistics CacheStatistics
    {
        get
        {
            var files = Volatile.Read(ref _fileCache);
            var certificates = Volatile.Read(ref _certificateCache);
            return new TieCacheStatistics
            {
                State = CacheState,
                Reason = _runOnlyReason,
                MaxAge = files?.MaxAge ?? TimeSpan.Zero,
                MaxEntries = _cacheMaxEntries,
                Entries = (files?.Count ?? 0) + (certificates?.Count ?? 0),
                Hits = Interlocked.Read(ref _hits),
                Misses = Interlocked.Read(ref _misses),
                EvictionsByEvent = Interlocked.Read(ref _evictionsByEvent),
                EvictionsByOwnChange = Interlocked.Read(ref _evictionsByOwnChange),
                ClearsByReconnect = Interlocked.Read(ref _clearsByReconnect),
                Requests = Interlocked.Read(ref _requests),
                MaxRequestsPerSecond = DefaultRequestRate?.RequestsPerSecond,
                RateLimitWaits = DefaultRequestRate?.Waits ?? 0,
            };
        }
    }

    private TieCacheState CacheState =>
        Volatile.Read(ref _fileCache) is null ? TieCacheState.Off
        : _runOnlyReason is not null ? TieCacheState.RunOnly
        : Volatile.Read(ref _coherence) is { IsCompleted: true } ? TieCacheState.On
        : TieCacheState.NotStarted;

    /// <summary>
    /// Looks up a file as <paramref name="options"/> allow: from the cache, from the run's request for the same
    /// hashes, or from TIE (under the rate). The answer's <see cref="TieReputationResult.Source"/> says which.
    /// </summary>
    public Task<FileReputationResult> GetFileReputationAsync(TieHashes hashes, TieLookupOptions options, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        RequireHashes(hashes);
        ArgumentNullException.ThrowIfNull(options);
        ValidTimeout(timeout);
        return LookUpAsync(TieReputationKey.ForFile(hashes), Volatile.Read(ref _fileCache), options, new FileAsk(hashes, timeout), cancellationToken);
    }

    /// <summary>Looks up a certificate as <paramref name="options"/> allow (see the file overload).</summary>
    public Task<CertificateReputationResult> GetCertificateReputationAsync(string sha1, string? publicKeySha1, TieLookupOptions options,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (cert, key) = CertHashes(sha1, publicKeySha1);
        ArgumentNullException.ThrowIfNull(options);
        ValidTimeout(timeout);
        return LookUpAsync(TieReputationKey.ForCertificate(cert, key), Volatile.Read(ref _certificateCache), options,
            new CertificateAsk(cert, key, timeout), cancellationToken);
    }

    /// <summary>
    /// One lookup. Synchronous up to the request: a miss returns the request's own task (or the run's shared one),
    /// so that the bulk hot path pays for no state machine of its own; only the first lookup of a client, which waits
    /// for the change events' subscription, and a shared answer, which is told as such, take one.
    /// </summary>
    private Task<T> LookUpAsync<T, TAsk>(TieReputationKey key, TieReputationCache<T>? cache, TieLookupOptions options, TAsk ask,
        CancellationToken cancellationToken) where T : TieReputationResult where TAsk : struct, ITieAsk<T>
    {
        if (cache is not null && Volatile.Read(ref _coherence) is not { IsCompleted: true })
            return LookUpAfterCoherenceAsync(key, cache, options, ask, cancellationToken);
        var keep = cache is not null && _runOnlyReason is null ? cache : null;
        return LookUp(key, keep, options, ask, cancellationToken);
    }

    private async Task<T> LookUpAfterCoherenceAsync<T, TAsk>(TieReputationKey key, TieReputationCache<T> cache, TieLookupOptions options, TAsk ask,
        CancellationToken cancellationToken) where T : TieReputationResult where TAsk : struct, ITieAsk<T>
    {
        var keep = await IsCoherentAsync(cancellationToken).ConfigureAwait(false) ? cache : null;
        return await LookUp(key, keep, options, ask, cancellationToken).ConfigureAwait(false);
    }

    private Task<T> LookUp<T, TAsk>(TieReputationKey key, TieReputationCache<T>? keep, TieLookupOptions options, TAsk ask,
        CancellationToken cancellationToken) where T : TieReputationResult where TAsk : struct, ITieAsk<T>
    {
        var run = options.Run;
        run?.CountLookup();
        if (keep is not null && options.UseCache)
        {
            var maxAge = options.MaxAge is { } asked && asked < keep.MaxAge ? asked : keep.MaxAge;
            if (keep.TryGet(key, maxAge, out var hit))
            {
                Interlocked.Increment(ref _hits);
                run?.CountCacheHit();
                return Task.FromResult(ask.Relabel(hit, TieAnswerSource.Cache));
            }
            Interlocked.Increment(ref _misses);
        }
        var request = new Request<T, TAsk>(this, ask, key, keep, options.Rate ?? DefaultRequestRate, run, cancellationToken);
        if (run is null || !options.ShareWithinRun) return request.SendAsync();
        var answer = ask.SharingIn(run).GetOrStart(key, request, static r => r.SendAsync(), out var shared);
        return shared ? RelabelAsync(answer, ask) : answer;
    }

    private static async Task<T> RelabelAsync<T, TAsk>(Task<T> shared, TAsk ask) where T : TieReputationResult where TAsk : struct, ITieAsk<T> =>
        ask.Relabel(await shared.ConfigureAwait(false), TieAnswerSource.Shared);

    /// <summary>One request to TIE for a lookup: waits for the rate, sends, keeps the answer unless something changed meanwhile.</summary>
    private readonly record struct Request<T, TAsk>(TieClient Tie, TAsk Ask, TieReputationKey Key, TieReputationCache<T>? Keep,
        TieRequestRate? Rate, TieLookupRun? Run, CancellationToken CancellationToken) where T : TieReputationResult where TAsk : struct, ITieAsk<T>
    {
        public async Task<T> SendAsync()
        {
            if (Rate is not null) await Rate.WaitAsync(CancellationToken).ConfigureAwait(false);
            var generation = Keep?.Generation ?? 0;
            Interlocked.Increment(ref Tie._requests);
            Run?.CountRequest();
            var answer = await Ask.SendAsync(Tie, CancellationToken).ConfigureAwait(false);
            Keep?.Add(Key, answer, generation);
            return answer;
        }
    }

    /// <summary>What one lookup asks of TIE, without a closure: a file's hashes or a certificate's.</summary>
    private interface ITieAsk<T> where T : TieReputationResult
    {
        Task<T> SendAsync(TieClient tie, CancellationToken cancellationToken);
        T Relabel(T answer, TieAnswerSource source);
        TieRunSharing<TieReputationKey, T> SharingIn(TieLookupRun run);
    }

    private readonly record struct FileAsk(TieHashes Hashes, TimeSpan? Timeout) : ITieAsk<FileReputationResult>
    {
        public Task<FileReputationResult> SendAsync(TieClient tie, CancellationToken cancellationToken) =>
            tie.GetFileReputationAsync(Hashes, Timeout, cancellationToken);
        public FileReputationResult Relabel(FileReputationResult answer, TieAnswerSource source) => answer.From(source);
        public TieRunSharing<TieReputationKey, FileReputationResult> SharingIn(TieLookupRun run) => run.Files;
    }

    private readonly record struct CertificateAsk(byte[] Sha1, byte[]? PublicKeySha1, TimeSpan? Timeout) : ITieAsk<CertificateReputationResult>
    {
        public Task<CertificateReputationResult> SendAsync(TieClient tie, CancellationToken cancellationToken) =>
            tie.RequestCertificateReputationAsync(Sha1, PublicKeySha1, Timeout, cancellationToken);
        public CertificateReputationResult Relabel(CertificateReputationResult answer, TieAnswerSource source) => answer.From(source);
        public TieRunSharing<TieReputationKey, CertificateReputationResult> SharingIn(TieLookupRun run) => run.Certificates;
    }

    // ---------------------------------------------------------------- coherence

    /// <summary>
    /// Whether the cache may keep answers beyond a run: it listens to TIE's change events. The first lookup that may
    /// use the cache subscribes (once per client; later lookups find it done); a failure limits the cache to runs.
    /// </summary>
    private ValueTask<bool> IsCoherentAsync(CancellationToken cancellationToken)
    {
        var coherence = Volatile.Read(ref _coherence);
        if (coherence is { IsCompleted: true }) return new ValueTask<bool>(_runOnlyReason is null);
        return WaitForCoherenceAsync(coherence, cancellationToken);
    }

    private async ValueTask<bool> WaitForCoherenceAsync(Task? coherence, CancellationToken cancellationToken)
    {
        if (coherence is null)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            coherence = Interlocked.CompareExchange(ref _coherence, started.Task, null) ?? started.Task;
            if (ReferenceEquals(coherence, started.Task)) _ = SubscribeChangesAsync(started);
        }
        await coherence.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _runOnlyReason is null;
    }

    private async Task SubscribeChangesAsync(TaskCompletionSource done)
    {
        try
        {
            using var bounded = new CancellationTokenSource(_timeout);
            // Kept for the client's lifetime: disposing the DXL client ends them.
            await SubscribeFileReputationChangeAsync(OnFileReputationChanged, cancellationToken: bounded.Token).ConfigureAwait(false);
            await SubscribeCertificateReputationChangeAsync(OnCertificateReputationChanged, cancellationToken: bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TieException or DxlException or OperationCanceledException or InvalidOperationException)
        {
            _runOnlyReason = string.Create(CultureInfo.InvariantCulture,
                $"TIE's reputation-change events could not be subscribed ({e.Message}), so cached answers could go stale unnoticed: answers are shared within one command only.");
        }
        done.TrySetResult();
    }

    private Task OnFileReputationChanged(FileReputationChangeEvent change)
    {
        if (!change.Hashes.IsEmpty && Volatile.Read(ref _fileCache) is { } cache)
            Interlocked.Add(ref _evictionsByEvent, cache.Invalidate(TieReputationKey.ForFile(change.Hashes)));
        return Task.CompletedTask;
    }

    private Task OnCertificateReputationChanged(CertificateReputationChangeEvent change)
    {
        if (Volatile.Read(ref _certificateCache) is { } cache && CertificateChangeKey(change) is { } key)
            Interlocked.Add(ref _evictionsByEvent, cache.Invalidate(key));
        return Task.CompletedTask;
    }

    private static TieReputationKey? CertificateChangeKey(CertificateReputationChangeEvent change)
    {
        var publicKey = string.IsNullOrEmpty(change.PublicKeySha1) ? null : TieHashes.ParseHex(HashType.Sha1, change.PublicKeySha1);
        return change.Hashes.GetBytesOrNull(HashType.Sha1) is { } sha1 ? TieReputationKey.ForCertificate(sha1, publicKey)
            : publicKey is not null ? TieReputationKey.ForPublicKey(publicKey)
            : null;
    }

    /// <summary>Before and after this client changes a file's reputation: its cached answers are no longer true.</summary>
    private void EvictOwnChange(TieHashes hashes)
    {
        if (Volatile.Read(ref _fileCache) is { } cache)
            Interlocked.Add(ref _evictionsByOwnChange, cache.Invalidate(TieReputationKey.ForFile(hashes)));
    }

    /// <summary>Before and after this client changes a certificate's reputation.</summary>
    private void EvictOwnChange(byte[] sha1, byte[]? publicKeySha1)
    {
        if (Volatile.Read(ref _certificateCache) is { } cache)
            Interlocked.Add(ref _evictionsByOwnChange, cache.Invalidate(TieReputationKey.ForCertificate(sha1, publicKeySha1)));
    }

    /// <summary>
    /// Events published while the connection was down were missed: the cache forgets everything when the connection
    /// drops (so nothing stale is served during the outage) and again when it is back (counted).
    /// </summary>
    private void WatchConnection()
    {
        Client.StateChanged += (_, state) =>
        {
            if (state != DxlConnectionState.Connected) ClearCaches();
        };
        Client.Reconnected += (_, _) =>
        {
            ClearCaches();
            Interlocked.Increment(ref _clearsByReconnect);
        };
    }

    private void ClearCaches()
    {
        Volatile.Read(ref _fileCache)?.Clear();
        Volatile.Read(ref _certificateCache)?.Clear();
    }
}
