using TieDxl.Dxl.Client;
using TieDxl.Fabric;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;

namespace TieDxl.Tests.Tie;

/// <summary>Mosquitto over mutual TLS with a simulator on a clock the tests move (one per test class).</summary>
public sealed class TieFeedFixture : IAsyncLifetime
{
    private long _now = 1_800_000_000;

    public MosquittoEnvironment Env { get; } = new();
    public DxlClient ServiceClient { get; private set; } = null!;
    public TieSimulator Simulator { get; private set; } = null!;

    public long Now
    {
        get => Interlocked.Read(ref _now);
        set => Interlocked.Exchange(ref _now, value);
    }

    public async Task InitializeAsync()
    {
        ServiceClient = await Env.ConnectAsync();
        Simulator = new TieSimulator(ServiceClient, new TieSimulatorOptions
        {
            Clock = () => DateTimeOffset.FromUnixTimeSeconds(Now),
            PublishReputationChanges = false,
        });
        await Simulator.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Simulator.DisposeAsync();
        await ServiceClient.DisposeAsync();
        Env.Dispose();
    }
}

/// <summary>
/// The paging feed through TieClient → mosquitto → the simulator: every subject once across pages and runs, the
/// resume position, a second holding more than a page, and the bounds.
/// </summary>
public sealed class TieReputationUpdatesFeedTests(TieFeedFixture fx) : IClassFixture<TieFeedFixture>, IAsyncLifetime
{
    private DxlClient _dxl = null!;
    private TieClient _tie = null!;

    public async Task InitializeAsync()
    {
        fx.Simulator.Store.Clear();
        fx.Simulator.Mode = TieSimulatorMode.Normal;
        _dxl = await fx.Env.ConnectAsync();
        _tie = new TieClient(_dxl) { DefaultTimeout = TimeSpan.FromSeconds(20) };
    }

    public async Task DisposeAsync()
    {
        fx.Simulator.Mode = TieSimulatorMode.Normal;
        await _dxl.DisposeAsync();
    }

    private List<TieHashes> SetFiles(int count, Func<int, long> at)
    {
        var files = Enumerable.Range(0, count).Select(_ => TieEndToEndTests.NewFile()).ToList();
        for (var i = 0; i < files.Count; i++)
            fx.Simulator.Store.SetFileReputation(files[i], (int)FileProvider.Enterprise, (int)TrustLevel.KnownMalicious, at(i), "f.exe", null);
        return files;
    }

    /// <summary>Every page of a feed, within a generous bound.</summary>
    internal static async Task<List<TieReputationChangePage>> ReadAll(TieReputationFeed feed)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var pages = new List<TieReputationChangePage>();
        await foreach (var page in feed.ReadAllAsync(bound.Token)) pages.Add(page);
        return pages;
    }

    private static readonly TieReputationUpdatesRequest Hundred = new() { QueryLimit = 100 };

    [Fact]
    public async Task TwoHundredFiftyChangesComeInThreePagesEachOnceAndTheNextRunStartsAfterThem()
    {
        var t0 = fx.Now;
        // Three changes a second: the pages end inside a second, so some subjects straddle two pages.
        var files = SetFiles(250, i => t0 + i / 3);
        fx.Now = t0 + 200;

        var feed = _tie.ReadReputationChanges(Hundred, new TieFeedPosition(t0 - 60));
        var pages = await ReadAll(feed);

        Assert.Equal(3, pages.Count);
        var listed = pages.SelectMany(p => p.Changes).Select(c => c.Hash).ToList();
        Assert.Equal(250, listed.Count);
        Assert.Equal(files.Select(f => f.Sha1!).ToHashSet(), listed.ToHashSet());
        Assert.True(feed.Duplicates > 0, "the pages ended inside a second");
        Assert.Equal(feed.Duplicates, pages.Sum(p => p.Duplicates));
        Assert.True(feed.IsComplete);
        // The second page was answered at a server time past the last change: that second is complete.
        Assert.Equal(t0 + 249 / 3 + 1, feed.Position.SinceTime);
        Assert.Empty(feed.Position.SeenAtSinceTime);

        var again = await ReadAll(_tie.ReadReputationChanges(Hundred, feed.Position));
        Assert.Empty(again.SelectMany(p => p.Changes));
    }

    [Fact]
    public async Task RunsInTheSecondOfTheLastChangeDeliverEachChangeOnceAndMissNone()
    {
        var t = fx.Now;
        fx.Now = t; // the server's clock stands in the second of the changes
        var files = SetFiles(5, _ => t);
        var first = _tie.ReadReputationChanges(Hundred, new TieFeedPosition(t - 5));
        Assert.Equal(5, (await ReadAll(first)).Sum(p => p.Changes.Count));
        Assert.Equal(t, first.Position.SinceTime);
        Assert.Equal(5, first.Position.SeenAtSinceTime.Count);

        // Same second: one new file; the five already delivered are dropped, not skipped past.
        var late = SetFiles(1, _ => t)[0];
        var second = _tie.ReadReputationChanges(Hundred, first.Position);
        Assert.Equal(new[] { late.Sha1 }, (await ReadAll(second)).SelectMany(p => p.Changes).Select(c => c.Hash));
        Assert.Equal(5, second.Duplicates);
        Assert.Equal(6, second.Position.SeenAtSinceTime.Count);

        // Later, a file already delivered changes again: listed again, the others not.
        fx.Now = t + 5;
        fx.Simulator.Store.SetFileReputation(files[2], (int)FileProvider.Enterprise, (int)TrustLevel.KnownTrusted, t + 5, null, null);
        var third = _tie.ReadReputationChanges(Hundred, second.Position);
        Assert.Equal(new[] { files[2].Sha1 }, (await ReadAll(third)).SelectMany(p => p.Changes).Select(c => c.Hash));
        Assert.Equal(t + 5, third.Position.SinceTime);
    }

    [Fact]
    public async Task ASecondHoldingMoreThanAPageDoublesThePageSize()
    {
        var t = fx.Now;
        var files = SetFiles(150, _ => t);
        fx.Now = t + 10;
        var feed = _tie.ReadReputationChanges(Hundred, new TieFeedPosition(t));
        var pages = await ReadAll(feed);
        Assert.Equal(2, pages.Count);
        Assert.Equal(150, pages.SelectMany(p => p.Changes).Select(c => c.Hash).Distinct().Count());
        Assert.Equal(100, feed.Duplicates);
        Assert.Equal(0, feed.SkippedSeconds);
        Assert.Equal(files.Select(f => f.Sha1!).ToHashSet(), pages.SelectMany(p => p.Changes).Select(c => c.Hash).ToHashSet());
    }

    [Fact]
    public async Task ASecondBeyondTheLargestPageIsSkippedAndCounted()
    {
        var t = fx.Now;
        SetFiles(TieConstants.MaxQueryLimit + 1, _ => t);
        var after = SetFiles(1, _ => t + 1)[0];
        fx.Now = t + 10;
        var bounded = _tie.ReadReputationChanges(new TieReputationUpdatesRequest { QueryLimit = TieConstants.MaxQueryLimit }, new TieFeedPosition(t));
        var pages = await ReadAll(bounded);
        // The first page is all in one second with more waiting, at the largest page: the rest of that second is
        // skipped, and the feed goes on after it instead of asking the same page forever.
        Assert.Equal(2, pages.Count);
        Assert.Equal(1, bounded.SkippedSeconds);
        Assert.Equal(TieConstants.MaxQueryLimit, pages[0].Changes.Count);
        Assert.Equal(new[] { after.Sha1 }, pages[1].Changes.Select(c => c.Hash));
        Assert.Equal(t + 1, pages[1].SinceTime);
    }

    [Fact]
    public async Task FiltersReachTheServer()
    {
        var t = fx.Now;
        var file = SetFiles(1, _ => t)[0];
        fx.Simulator.Store.SetCertificateReputation(Guid.NewGuid().ToByteArray().Concat(new byte[4]).ToArray(), null,
            (int)CertProvider.Enterprise, (int)TrustLevel.KnownTrusted, t, null);
        var request = new TieReputationUpdatesRequest { IncludeCertificates = false, FileHashType = HashType.Sha256 };
        var changes = (await ReadAll(_tie.ReadReputationChanges(request, new TieFeedPosition(t)))).SelectMany(p => p.Changes).ToList();
        Assert.Equal(new[] { new TieChangedSubject(TieSubjectKind.File, HashType.Sha256, file.Sha256!) }, changes);

        var certs = await _tie.GetReputationUpdatesAsync(new TieReputationUpdatesRequest { SinceTime = t, IncludeFiles = false });
        Assert.Empty(certs.Files);
        Assert.Single(certs.Certificates);
    }

    [Fact]
    public async Task AServerErrorOrGarbageStopsTheFeedWhereItWas()
    {
        var start = new TieFeedPosition(fx.Now);
        fx.Simulator.Mode = TieSimulatorMode.Garbage;
        var feed = _tie.ReadReputationChanges(Hundred, start);
        await Assert.ThrowsAsync<TieMalformedResponseException>(() => feed.NextPageAsync());
        Assert.Same(start, feed.Position);
        Assert.Equal(0, feed.Pages);
        Assert.Throws<ArgumentOutOfRangeException>(() => _tie.ReadReputationChanges(new TieReputationUpdatesRequest { QueryLimit = 0 }, start));
        Assert.Throws<ArgumentOutOfRangeException>(() => _tie.ReadReputationChanges(Hundred, new TieFeedPosition(-1)));
    }
}

/// <summary>The feed on the embedded DXL fabric (its registry routes the request to the simulator), on the real clock.</summary>
public sealed class TieReputationUpdatesFabricTests
{
    [Fact]
    public async Task SetsThroughTheFabricAreListedOnceAndANextRunListsOnlyTheNewOne()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithProvisioningEndpoint = false });
        await using var dxl = new DxlClient(fabric.NewClientConfig());
        await dxl.ConnectAsync();
        var tie = new TieClient(dxl) { DefaultTimeout = TimeSpan.FromSeconds(20) };
        var since = TieFeedPosition.At(DateTimeOffset.UtcNow.AddMinutes(-1));
        var files = Enumerable.Range(0, 250).Select(_ => TieEndToEndTests.NewFile()).ToList();
        await Task.WhenAll(files.Select(f => tie.SetFileReputationAsync(f, TrustLevel.MostLikelyMalicious, "f.exe")));

        var request = new TieReputationUpdatesRequest { QueryLimit = 100 };
        var first = tie.ReadReputationChanges(request, since);
        var pages = await TieReputationUpdatesFeedTests.ReadAll(first);
        var changes = pages.SelectMany(p => p.Changes).ToList();
        // Sets made within the same second come back in more pages (a page all in one second doubles the next).
        Assert.True(pages.Count >= 3, $"{pages.Count} pages");
        Assert.Equal(files.Select(f => f.Sha1!).Order(), changes.Select(c => c.Hash).Order());

        var none = tie.ReadReputationChanges(request, first.Position);
        Assert.Empty((await TieReputationUpdatesFeedTests.ReadAll(none)).SelectMany(p => p.Changes));

        var one = TieEndToEndTests.NewFile();
        await tie.SetFileReputationAsync(one, TrustLevel.KnownTrusted);
        var next = tie.ReadReputationChanges(request, none.Position);
        Assert.Equal(new[] { one.Sha1 }, (await TieReputationUpdatesFeedTests.ReadAll(next)).SelectMany(p => p.Changes).Select(c => c.Hash));
    }
}
