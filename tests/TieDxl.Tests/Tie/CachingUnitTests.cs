using System.Diagnostics;
using TieDxl.Tie;
using TieDxl.Tie.Caching;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>The cache's keys, its exact eviction, the run's sharing and the request rate, without a broker.</summary>
[Collection(nameof(CachingMemoryTests))]
public sealed class CachingUnitTests
{
    private static FileReputationResult Answer(TieHashes hashes) => new(hashes, [], TieServerProperties.Empty);

    [Fact]
    public void KeysAreEqualOnlyForTheSameSetOfHashes()
    {
        var all = TieReputationKey.ForFile(Notepad);
        Assert.Equal(all, TieReputationKey.ForFile(TieHashes.Create(NotepadMd5.ToUpperInvariant(), NotepadSha1, NotepadSha256)));
        Assert.NotEqual(all, TieReputationKey.ForFile(TieHashes.Create(sha256: NotepadSha256)));
        Assert.NotEqual(TieReputationKey.ForFile(TieHashes.Create(md5: NotepadMd5)), TieReputationKey.ForFile(TieHashes.Create(sha256: NotepadSha256)));
        Assert.Equal(3, all.Count);
    }

    [Fact]
    public void AnAnswerIsFoundAgainBySameHashesOnlyAndGoesWhenAnyOfItsHashesIsInvalidated()
    {
        var cache = new TieReputationCache<FileReputationResult>(100, TimeSpan.FromMinutes(10));
        var asked = TieHashes.Create(md5: NotepadMd5, sha256: NotepadSha256);
        var key = TieReputationKey.ForFile(asked);
        cache.Add(key, Answer(asked), cache.Generation);

        Assert.True(cache.TryGet(TieReputationKey.ForFile(TieHashes.Create(md5: NotepadMd5, sha256: NotepadSha256)), TimeSpan.FromMinutes(10), out _));
        Assert.False(cache.TryGet(TieReputationKey.ForFile(TieHashes.Create(sha256: NotepadSha256)), TimeSpan.FromMinutes(10), out _));

        // A change event that names only the MD5 still evicts the answer asked by MD5 and SHA-256.
        Assert.Equal(1, cache.Invalidate(TieReputationKey.ForFile(TieHashes.Create(md5: NotepadMd5))));
        Assert.False(cache.TryGet(key, TimeSpan.FromMinutes(10), out _));
    }

    [Fact]
    public void AnAnswerWhoseRequestWasOutDuringAnInvalidationIsNotKept()
    {
        var cache = new TieReputationCache<FileReputationResult>(100, TimeSpan.FromMinutes(10));
        var key = TieReputationKey.ForFile(Notepad);
        var before = cache.Generation;
        cache.Invalidate(TieReputationKey.ForFile(Notepad));
        cache.Add(key, Answer(Notepad), before);
        Assert.False(cache.TryGet(key, TimeSpan.FromMinutes(10), out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void AnAnswerOlderThanTheAskedAgeIsNotServed()
    {
        var cache = new TieReputationCache<FileReputationResult>(100, TimeSpan.FromMinutes(10));
        var key = TieReputationKey.ForFile(Notepad);
        cache.Add(key, Answer(Notepad), cache.Generation);
        Thread.Sleep(50);
        Assert.False(cache.TryGet(key, TimeSpan.FromMilliseconds(1), out _));
        Assert.True(cache.TryGet(key, TimeSpan.FromMinutes(1), out _));
    }

    [Fact]
    public void TheCacheHoldsAtMostItsMaximumNumberOfHashes()
    {
        var cache = new TieReputationCache<FileReputationResult>(300, TimeSpan.FromMinutes(10));
        for (var i = 0; i < 5_000; i++)
        {
            var hashes = TieEndToEndTests.NewFile();
            cache.Add(TieReputationKey.ForFile(hashes), Answer(hashes), cache.Generation);
        }
        Assert.InRange(cache.Count, 1, 300);
    }

    [Fact]
    public async Task ARunSharesWorkByKeyFailuresIncluded()
    {
        var sharing = new TieRunSharing<string, int>();
        var started = 0;
        var gate = new TaskCompletionSource();
        Task<int> Work(string name) => sharing.GetOrStart(name, name, async n =>
        {
            Interlocked.Increment(ref started);
            await gate.Task;
            return n == "bad" ? throw new InvalidOperationException("no " + n) : n.Length;
        }, out _);

        var tasks = Enumerable.Range(0, 1_000).Select(i => Work(i % 2 == 0 ? "good" : "bad")).ToArray();
        gate.SetResult();
        await Task.WhenAll(tasks.Where((_, i) => i % 2 == 0));
        Assert.Equal(2, started);
        Assert.Equal(998, sharing.SharedCount);
        for (var i = 1; i < tasks.Length; i += 2)
            Assert.Equal("no bad", (await Assert.ThrowsAsync<InvalidOperationException>(() => tasks[i])).Message);
    }

    [Fact]
    public async Task ARunRemembersABoundedNumberOfKeys()
    {
        var sharing = new TieRunSharing<int, int>(capacity: 100);
        var started = 0;
        for (var i = 0; i < 10_000; i++)
            await sharing.GetOrStart(i, i, n => { Interlocked.Increment(ref started); return Task.FromResult(n); }, out _);
        // Key 0 was pushed out long ago: asked again, it is worked again.
        await sharing.GetOrStart(0, 0, n => { Interlocked.Increment(ref started); return Task.FromResult(n); }, out var shared);
        Assert.False(shared);
        Assert.Equal(10_001, started);
    }

    [Fact]
    public async Task TheRateHoldsFromTheFirstSecondAndCancellationEndsTheWaitAtOnce()
    {
        using var rate = new TieRequestRate(200);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 300; i++) await rate.WaitAsync(CancellationToken.None);
        // 300 at 200/s: 1.5 s (the bucket starts empty). Never faster: that is the promise; slower only by what a
        // loaded machine takes to run the waiters (the end-to-end test holds the rate to 10% over 4 s).
        Assert.True(clock.Elapsed.TotalSeconds is >= 1.5 * 0.95 and <= 1.5 * 1.5, $"300 waits at 200/s took {clock.Elapsed.TotalSeconds:0.00} s");
        Assert.InRange(rate.Waits, 1, 300);

        // One token a minute, and the bucket starts empty: the wait can only end by cancellation.
        using var slow = new TieRequestRate(TieRequestRate.MinRequestsPerSecond);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        clock.Restart();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow.WaitAsync(cts.Token).AsTask());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(0.9), $"the wait ended after {clock.Elapsed}");
    }
}

/// <summary>
/// Memory stays bounded: a million distinct files through the session cache (100,000 hashes at most) and a run's
/// sharing keep what the bounds allow, not what went through. Its collection runs alone (it measures the heap), and
/// so do the end-to-end caching tests that measure a rate (<see cref="CachingEndToEndTests"/>).
/// </summary>
[Collection(nameof(CachingMemoryTests))]
[CollectionDefinition(nameof(CachingMemoryTests), DisableParallelization = true)]
public sealed class CachingMemoryTests
{
    [Fact]
    public async Task AMillionDistinctFilesKeepOnlyWhatTheBoundsAllow()
    {
        const int maxEntries = 100_000;
        var cache = new TieReputationCache<FileReputationResult>(maxEntries, TimeSpan.FromMinutes(10));
        var sharing = new TieRunSharing<TieReputationKey, FileReputationResult>();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 1_000_000; i++)
        {
            var hashes = TieHashes.FromBytes(HashType.Sha256, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var key = TieReputationKey.ForFile(hashes);
            var answer = await sharing.GetOrStart(key, hashes, static h => Task.FromResult(new FileReputationResult(h, [], TieServerProperties.Empty)), out _);
            cache.Add(key, answer, cache.Generation);
        }
        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(sharing);
        GC.KeepAlive(cache);

        Assert.InRange(cache.Count, 1, maxEntries);
        // About 450 bytes per cached answer (entry, answer, hashes, LRU and dictionary nodes; 47 MB measured with the
        // run's keys) and 400 per remembered run key: far below the 1,000,000 answers (over 400 MB) that went through.
        var bound = maxEntries * 500L + TieRunSharing<TieReputationKey, FileReputationResult>.DefaultCapacity * 400L;
        Assert.True(retained < bound, $"{retained / 1e6:0.0} MB retained, bound {bound / 1e6:0.0} MB");
    }
}
