using System.Diagnostics;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Fabric;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Tests.Tie;

/// <summary>
/// The session cache, the run's sharing and the rate through a real broker and the TIE simulator: the same tests
/// against mosquitto (the simulator on a DXL client) and against the embedded fabric.
/// </summary>
public abstract class CachingEndToEndTests : IAsyncLifetime
{
    private readonly List<DxlClient> _clients = new();

    protected abstract TieSimulator Simulator { get; }
    protected abstract Task<DxlClient> NewConnectedClientAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync();
    }

    protected async Task<TieClient> NewTieClientAsync()
    {
        var client = await NewConnectedClientAsync();
        _clients.Add(client);
        return new TieClient(client) { DefaultTimeout = TimeSpan.FromSeconds(30) };
    }

    private static TieHashes[] DistinctFiles(int count) => Enumerable.Range(0, count).Select(_ => TieEndToEndTests.NewFile()).ToArray();

    private static async Task<FileReputationResult[]> LookUpAllAsync(TieClient tie, IReadOnlyList<TieHashes> inputs, TieLookupOptions options) =>
        await Task.WhenAll(inputs.Select(h => tie.GetFileReputationAsync(h, options)));

    [Fact]
    public async Task TenThousandInputsNamingOneHundredFilesMakeOneHundredRequestsThenNoneThenOneHundredWithoutTheCache()
    {
        var tie = await NewTieClientAsync();
        var files = DistinctFiles(100);
        var inputs = Enumerable.Range(0, 10_000).Select(i => files[i * 7 % 100]).ToArray();

        var before = Simulator.RequestCount;
        var run = new TieLookupRun();
        var answers = await LookUpAllAsync(tie, inputs, new TieLookupOptions { Run = run });
        Assert.Equal(100, Simulator.RequestCount - before);
        Assert.Equal(100, run.Requests);
        Assert.Equal(10_000, run.Lookups);
        for (var i = 0; i < inputs.Length; i++) Assert.Equal(inputs[i], answers[i].Hashes);
        Assert.Equal(100, answers.Count(a => a.Source == TieAnswerSource.Tie));

        before = Simulator.RequestCount;
        var again = await LookUpAllAsync(tie, files, new TieLookupOptions { Run = new TieLookupRun() });
        Assert.Equal(0, Simulator.RequestCount - before);
        Assert.All(again, a => Assert.True(a.FromCache));
        Assert.All(again, a => Assert.True(a.AgeAt(DateTimeOffset.UtcNow) >= TimeSpan.Zero));

        before = Simulator.RequestCount;
        await LookUpAllAsync(tie, files, new TieLookupOptions { Run = new TieLookupRun(), UseCache = false });
        Assert.Equal(100, Simulator.RequestCount - before);
        Assert.Equal(TieCacheState.On, tie.CacheStatistics.State);
    }

    [Fact]
    public async Task OneNotFoundAnswersEveryCopyOfTheFile()
    {
        var tie = await NewTieClientAsync();
        // All-zero hashes: the simulator (as the server) answers "Could not find reputation".
        var missing = TieHashes.Create(sha256: new string('0', 64));
        var before = Simulator.RequestCount;
        var run = new TieLookupRun();
        var copies = Enumerable.Range(0, 50).Select(_ => tie.GetFileReputationAsync(missing, new TieLookupOptions { Run = run })).ToArray();
        foreach (var copy in copies) await Assert.ThrowsAsync<TieNotFoundException>(() => copy);
        Assert.Equal(1, Simulator.RequestCount - before);
    }

    [Fact]
    public async Task AnotherClientsEnterpriseSetEvictsTheCachedFileWellWithinTheMaximumAge()
    {
        var a = await NewTieClientAsync();
        var b = await NewTieClientAsync();
        var file = TieEndToEndTests.NewFile();
        // Asked by two of its hashes: the event names all three, the entry must still go.
        var asked = TieHashes.Create(md5: file.Md5, sha256: file.Sha256);
        var options = new TieLookupOptions();
        await a.GetFileReputationAsync(asked, options);
        Assert.True((await a.GetFileReputationAsync(asked, options)).FromCache);

        await b.SetFileReputationAsync(file, TrustLevel.KnownMalicious);
        Assert.True(await Poll.UntilAsync(() => a.CacheStatistics.EvictionsByEvent >= 1, TimeSpan.FromSeconds(10)), "no change event evicted the file");

        var after = await a.GetFileReputationAsync(asked, options);
        Assert.Equal(TieAnswerSource.Tie, after.Source);
        Assert.Equal(TrustLevel.KnownMalicious, after.Enterprise!.TrustLevel);
    }

    [Fact]
    public async Task AnotherClientsCertificateSetEvictsTheCachedCertificate()
    {
        var a = await NewTieClientAsync();
        var b = await NewTieClientAsync();
        var sha1 = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        var publicKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        await b.SetCertificateReputationAsync(sha1, TrustLevel.MightBeTrusted, publicKey);
        var options = new TieLookupOptions();
        await a.GetCertificateReputationAsync(sha1, publicKey, options);
        Assert.True((await a.GetCertificateReputationAsync(sha1, publicKey, options)).FromCache);

        await b.SetCertificateReputationAsync(sha1, TrustLevel.KnownMalicious, publicKey);
        Assert.True(await Poll.UntilAsync(() => a.CacheStatistics.EvictionsByEvent >= 1, TimeSpan.FromSeconds(10)), "no change event evicted the certificate");

        var after = await a.GetCertificateReputationAsync(sha1, publicKey, options);
        Assert.False(after.FromCache);
        Assert.Equal(TrustLevel.KnownMalicious, after.Enterprise!.TrustLevel);
    }

    [Fact]
    public async Task ItsOwnSetEvictsTheFileAtOnce()
    {
        var tie = await NewTieClientAsync();
        var file = TieEndToEndTests.NewFile();
        var options = new TieLookupOptions();
        await tie.GetFileReputationAsync(file, options);
        await tie.SetFileReputationAsync(file, TrustLevel.KnownTrusted);
        var after = await tie.GetFileReputationAsync(file, options);
        Assert.False(after.FromCache);
        Assert.Equal(TrustLevel.KnownTrusted, after.Enterprise!.TrustLevel);
        Assert.True(tie.CacheStatistics.EvictionsByOwnChange >= 1);
    }

    [Fact]
    public async Task TwoThousandLookupsAtFiveHundredPerSecondTakeFourSecondsAndCancellationStopsTheWaitAtOnce()
    {
        var tie = await NewTieClientAsync();
        var files = DistinctFiles(2_000);
        using var rate = new TieRequestRate(500);
        var options = new TieLookupOptions { Run = new TieLookupRun(), Rate = rate };
        // 64 in flight, as a bulk cmdlet runs them (its default -ThrottleLimit): the rate, not 2,000 waiters queued at
        // once and their continuations on a loaded 2-core machine, is what is measured.
        using var inFlight = new SemaphoreSlim(64);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(files.Select(async h =>
        {
            await inFlight.WaitAsync();
            try { await tie.GetFileReputationAsync(h, options); }
            finally { inFlight.Release(); }
        }));
        var elapsed = clock.Elapsed;
        Assert.True(elapsed.TotalSeconds is >= 4 * 0.9 and <= 4 * 1.1, $"2,000 lookups at 500/s took {elapsed.TotalSeconds:0.00} s");

        using var slow = new TieRequestRate(10);
        using var cancel = new CancellationTokenSource();
        var waiting = DistinctFiles(200).Select(h => tie.GetFileReputationAsync(h, new TieLookupOptions { Rate = slow }, cancellationToken: cancel.Token)).ToArray();
        await Task.Delay(300);
        clock.Restart();
        cancel.Cancel();
        var all = Task.WhenAll(waiting);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => all);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the waits ended {clock.Elapsed} after Ctrl+C");
    }
}

/// <summary>Against mosquitto over mutual TLS, the simulator on its own DXL client (it publishes the change events).</summary>
[Collection(nameof(CachingMemoryTests))]
public sealed class MosquittoCachingTests(TieSimulatorFixture fx) : CachingEndToEndTests, IClassFixture<TieSimulatorFixture>
{
    protected override TieSimulator Simulator => fx.Simulator;
    protected override Task<DxlClient> NewConnectedClientAsync() => fx.Env.ConnectAsync();
}

/// <summary>Against the embedded fabric with its simulator; the lookup client reaches it through a proxy that can drop the line.</summary>
[Collection(nameof(CachingMemoryTests))]
public sealed class FabricCachingTests : CachingEndToEndTests
{
    private DxlTestFabric _fabric = null!;
    private readonly List<FaultProxy> _lines = new();

    protected override TieSimulator Simulator => _fabric.Simulator!;

    public override async Task InitializeAsync() => _fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithProvisioningEndpoint = false });

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var line in _lines) line.Dispose();
        await _fabric.DisposeAsync();
    }

    protected override async Task<DxlClient> NewConnectedClientAsync()
    {
        var line = new FaultProxy(_fabric.Port);
        _lines.Add(line);
        var config = _fabric.NewClientConfig();
        config.Brokers.Clear();
        config.Brokers.Add(new DxlBroker("fabric", "127.0.0.1", line.Port));
        config.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        config.ReconnectDelayMax = TimeSpan.FromMilliseconds(500);
        config.ConnectRetries = 0;
        var client = new DxlClient(config);
        await client.ConnectAsync();
        return client;
    }

    [Fact]
    public async Task AReconnectClearsTheCacheAndTheNextLookupGoesToTie()
    {
        var tie = await NewTieClientAsync();
        var file = TieEndToEndTests.NewFile();
        var options = new TieLookupOptions();
        await tie.GetFileReputationAsync(file, options);
        Assert.True((await tie.GetFileReputationAsync(file, options)).FromCache);

        await _lines[^1].RestartAsync(TimeSpan.FromSeconds(1));
        Assert.True(await Poll.UntilAsync(() => tie.CacheStatistics.ClearsByReconnect == 1, TimeSpan.FromSeconds(30)), "the reconnect did not clear the cache");

        var before = Simulator.RequestCount;
        var after = await tie.GetFileReputationAsync(file, options);
        Assert.Equal(TieAnswerSource.Tie, after.Source);
        Assert.Equal(1, Simulator.RequestCount - before);
    }
}
