using TieDxl.Dxl.Client;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;
using Xunit.Abstractions;

namespace TieDxl.Tests.Reliability;

/// <summary>A real mosquitto (mutual TLS) with the TIE simulator on its own DXL client; each test restarts or breaks it.</summary>
public sealed class MosquittoRideThroughTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly MosquittoEnvironment _env = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _reportsReceived = new();
    private DxlClient _service = null!;
    private TieSimulator _simulator = null!;

    public async Task InitializeAsync()
    {
        _service = await _env.ConnectAsync();
        _simulator = new TieSimulator(_service, new TieSimulatorOptions { PublishReputationChanges = false });
        _simulator.ExternalReportApplied += (_, item) => _reportsReceived.AddOrUpdate(item.Hashes.ToString(), 1, (_, n) => n + 1);
        await _simulator.StartAsync();
    }

    [Fact]
    public async Task ExternalReportsAcrossABrokerRestartAreEachSentAndReceivedOrFailed()
    {
        await using var client = await _env.ConnectAsync();
        var tie = new TieClient(client) { DefaultTimeout = TimeSpan.FromSeconds(20) };
        var files = BulkRun.NewFiles(3_000);
        var sent = new System.Collections.Concurrent.ConcurrentBag<string>();
        var failed = new System.Collections.Concurrent.ConcurrentBag<(string File, Exception Error)>();
        var completed = 0;
        var publishing = Task.Run(async () =>
        {
            using var throttle = new SemaphoreSlim(16);
            var tasks = files.Select(async (file, i) =>
            {
                await throttle.WaitAsync();
                try
                {
                    await tie.SetExternalFileReputationAsync(file, TrustLevel.MightBeTrusted, FileType.PeExe, $"report-{i}.exe");
                    sent.Add(file.ToString());
                }
                catch (Exception e)
                {
                    failed.Add((file.ToString(), e));
                }
                finally
                {
                    Interlocked.Increment(ref completed);
                    throttle.Release();
                }
            }).ToArray();
            await Task.WhenAll(tasks);
        });
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref completed) >= 500, TimeSpan.FromSeconds(60)), "the reports did not get going");

        var completedAtKill = Volatile.Read(ref completed);
        _env.Broker.Kill();
        await Task.Delay(TimeSpan.FromSeconds(3));
        _env.Broker.Start();
        await publishing.WaitAsync(TimeSpan.FromSeconds(120));
        // Events have no answer: give the last ones a moment to arrive.
        await Poll.UntilAsync(() => sent.All(_reportsReceived.ContainsKey), TimeSpan.FromSeconds(20));

        var lost = sent.Where(f => !_reportsReceived.ContainsKey(f)).ToArray();
        var order = files.Select((f, i) => (f.ToString(), i)).ToDictionary(p => p.Item1, p => p.i);
        if (lost.Length > 0) output.WriteLine($"lost (input index): {string.Join(",", lost.Select(f => order[f]).Order().Take(40))}; {completedAtKill} done at the kill");
        var duplicates = _reportsReceived.Values.Count(n => n > 1);
        output.WriteLine($"3,000 External reports, 16 in flight, restart 3 s: {sent.Count} sent, {failed.Count} failed, {lost.Length} sent but not received, {duplicates} received twice or more");
        Assert.Equal(3_000, sent.Count + failed.Count);
        Assert.True(lost.Length == 0, $"{lost.Length} report(s) counted Sent were never received");
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _service.DisposeAsync();
        _env.Dispose();
    }

    [Fact]
    public async Task ABrokerRestartOfFiveSecondsInTheMiddleOfTenThousandLookupsLosesNothing()
    {
        await using var client = await _env.ConnectAsync();
        var tie = new TieClient(client); // the default 30 s timeout
        var run = BulkRun.Start(tie, 10_000, 64, null, out var done);
        Assert.True(await Poll.UntilAsync(() => run.Completed >= 2_000, TimeSpan.FromSeconds(60)), "the run did not get going");

        _env.Broker.Kill();
        var killedAt = run.Now;
        await Task.Delay(TimeSpan.FromSeconds(5));
        _env.Broker.Start();
        await done.WaitAsync(TimeSpan.FromSeconds(120));

        output.WriteLine($"restart 5 s after {killedAt.TotalSeconds:0.0} s: {run.Results} results, {run.Errors.Count} errors, {run.Elapsed.TotalSeconds:0.0} s; " +
                         $"reconnects {client.ReconnectCount}, outage {client.LastOutage?.Duration.TotalSeconds:0.0} s");
        Assert.True(run.Errors.IsEmpty, run.ErrorSummary());
        Assert.Equal(10_000, run.Results);
        Assert.True(client.ReconnectCount >= 1);
        Assert.NotNull(client.LastOutage);
    }
}

/// <summary>
/// Silent brokers: the client reaches mosquitto through a <see cref="FaultProxy"/> that freezes the line with the
/// sockets open. The TIE simulator connects to mosquitto directly and is not affected.
/// </summary>
public sealed class SilentBrokerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly MosquittoEnvironment _env = new();
    private readonly List<FaultProxy> _proxies = new();
    private DxlClient _service = null!;
    private TieSimulator _simulator = null!;

    public async Task InitializeAsync()
    {
        _service = await _env.ConnectAsync();
        _simulator = new TieSimulator(_service);
        await _simulator.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var proxy in _proxies) proxy.Dispose();
        await _simulator.DisposeAsync();
        await _service.DisposeAsync();
        _env.Dispose();
    }

    private FaultProxy NewProxy()
    {
        var proxy = new FaultProxy(_env.Broker.Port);
        _proxies.Add(proxy);
        return proxy;
    }

    /// <summary>A client that reaches the broker only through the given proxies, in that order of preference.</summary>
    private DxlClient ClientThrough(params FaultProxy[] proxies)
    {
        var config = _env.NewConfig();
        config.Brokers.Clear();
        for (var i = 0; i < proxies.Length; i++) config.Brokers.Add(new Dxl.Config.DxlBroker($"proxy{i + 1}", "127.0.0.1", proxies[i].Port));
        return new DxlClient(config);
    }

    /// <summary>Detection timings shortened for the tests that do not check the defaults (same logic, smaller numbers).</summary>
    private static readonly DxlResilienceTimings Quick = new()
    {
        MonitorInterval = TimeSpan.FromMilliseconds(250),
        UnansweredBeforeCheck = TimeSpan.FromSeconds(2),
        IdleBeforeCheck = TimeSpan.FromSeconds(3),
        LivenessCheckTimeout = TimeSpan.FromSeconds(2),
        DeadConnectionTeardown = TimeSpan.FromSeconds(1),
    };

    /// <summary>Waits until the client's state leaves Connected; returns when (run clock), or null.</summary>
    private static async Task<TimeSpan?> NoticedAsync(DxlClient client, BulkRun run, TimeSpan within)
    {
        var noticed = await Poll.UntilAsync(() => client.State != DxlConnectionState.Connected, within);
        return noticed ? run.Now : null;
    }

    [Fact]
    public async Task ATwentySecondFreezeIsNoticedWithinFifteenSecondsWithTheDefaultsAndTheRunCompletesWithoutErrors()
    {
        var proxy = NewProxy();
        await using var client = ClientThrough(proxy);
        Assert.Equal(1800, client.Config.KeepAliveSeconds); // the config's keep-alive stays what it is
        await client.ConnectAsync();
        var tie = new TieClient(client); // default 30 s timeout, default detection timings
        var run = BulkRun.Start(tie, 6_000, 64, null, out var done);
        Assert.True(await Poll.UntilAsync(() => run.Completed >= 1_000, TimeSpan.FromSeconds(60)), "the run did not get going");

        proxy.Freeze();
        var frozenAt = run.Now;
        var noticedAt = await NoticedAsync(client, run, TimeSpan.FromSeconds(25));
        var healIn = TimeSpan.FromSeconds(20) - (run.Now - frozenAt);
        if (healIn > TimeSpan.Zero) await Task.Delay(healIn);
        proxy.Heal();
        await done.WaitAsync(TimeSpan.FromSeconds(120));

        output.WriteLine($"freeze 20 s after {frozenAt.TotalSeconds:0.0} s: noticed after {(noticedAt - frozenAt)?.TotalSeconds:0.0} s; " +
                         $"{run.Results} results, {run.Errors.Count} errors, {run.Elapsed.TotalSeconds:0.0} s; reconnects {client.ReconnectCount}");
        Assert.NotNull(noticedAt);
        Assert.True(noticedAt - frozenAt <= TimeSpan.FromSeconds(15), $"noticed after {(noticedAt - frozenAt)?.TotalSeconds:0.0} s");
        Assert.True(run.Errors.IsEmpty, run.ErrorSummary());
        Assert.Equal(6_000, run.Results);
        Assert.Contains("liveness check", client.LastOutage!.Reason);
    }

    [Fact]
    public async Task APermanentFreezeWithTwoBrokersFailsOverAndTheRunCompletesWithoutErrors()
    {
        var first = NewProxy();
        var second = NewProxy();
        await using var client = ClientThrough(first, second);
        client.Timings = Quick;
        await client.ConnectAsync();
        var live = client.CurrentBroker!.Port == first.Port ? first : second;
        var tie = new TieClient(client);
        var run = BulkRun.Start(tie, 6_000, 64, null, out var done);
        Assert.True(await Poll.UntilAsync(() => run.Completed >= 1_000, TimeSpan.FromSeconds(60)), "the run did not get going");

        live.Freeze();
        var frozenAt = run.Now;
        await done.WaitAsync(TimeSpan.FromSeconds(120));

        output.WriteLine($"permanent freeze of the live broker after {frozenAt.TotalSeconds:0.0} s: {run.Results} results, {run.Errors.Count} errors, " +
                         $"{run.Elapsed.TotalSeconds:0.0} s; now on {client.CurrentBroker}, outage {client.LastOutage?.Duration.TotalSeconds:0.0} s");
        Assert.True(run.Errors.IsEmpty, run.ErrorSummary());
        Assert.Equal(6_000, run.Results);
        Assert.NotEqual(live.Port, client.CurrentBroker!.Port);
    }

    [Fact]
    public async Task APermanentFreezeWithOneBrokerFailsEveryItemWithinItsTimeoutWithTheFabricUnreachableError()
    {
        var proxy = NewProxy();
        await using var client = ClientThrough(proxy);
        client.Timings = Quick;
        await client.ConnectAsync();
        var tie = new TieClient(client);
        var run = BulkRun.Start(tie, 2_000, 64, TimeSpan.FromSeconds(10), out var done);
        Assert.True(await Poll.UntilAsync(() => run.Completed >= 500, TimeSpan.FromSeconds(60)), "the run did not get going");

        proxy.Freeze();
        var frozenAt = run.Now;
        var resultsAtFreeze = run.Results;
        await done.WaitAsync(TimeSpan.FromSeconds(60));

        var failed = run.Errors.ToArray();
        var last = failed.Max(e => e.At) - frozenAt;
        output.WriteLine($"permanent freeze, one broker, 10 s timeout: {run.Results} results ({resultsAtFreeze} before the freeze), {failed.Length} errors, " +
                         $"the last {last.TotalSeconds:0.0} s after the freeze; first error: {failed[0].Error.Message}");
        Assert.Equal(2_000, run.Results + failed.Length);
        Assert.True(last <= TimeSpan.FromSeconds(13), $"the last item failed {last.TotalSeconds:0.0} s after the freeze");
        Assert.All(failed, e =>
        {
            var error = Assert.IsType<TieConnectionException>(e.Error);
            Assert.Contains("unreachable", error.Message);
            Assert.Contains("127.0.0.1:" + proxy.Port, error.Message);
            Assert.NotNull(error.UnreachableSince);
        });
    }

    [Fact]
    public async Task AListenOnlySessionNoticesAFrozenBrokerAndReportsTheOutageWindowAfterTheHeal()
    {
        var proxy = NewProxy();
        await using var client = ClientThrough(proxy);
        client.Timings = Quick;
        await client.ConnectAsync();
        var outages = new List<DxlOutage>();
        client.Reconnected += (_, o) => { lock (outages) outages.Add(o); };
        var received = 0;
        await using var subscription = await client.SubscribeAsync("/tiedxl/test/listen-only", _ => { Interlocked.Increment(ref received); return Task.CompletedTask; });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var frozenAt = DateTimeOffset.UtcNow;
        proxy.Freeze();
        Assert.True(await Poll.UntilAsync(() => client.State != DxlConnectionState.Connected, TimeSpan.FromSeconds(20)), "a frozen broker went unnoticed");
        var noticed = clock.Elapsed;
        Assert.Equal(DxlConnectionState.Reconnecting, client.State);
        Assert.NotNull(client.UnreachableSince);
        proxy.Heal();
        Assert.True(await Poll.UntilAsync(() => client.IsConnected, TimeSpan.FromSeconds(20)), "no reconnect after the heal");
        Assert.True(await Poll.UntilAsync(() => { lock (outages) return outages.Count == 1; }, TimeSpan.FromSeconds(5)), "no Reconnected event");

        // Subscriptions are back: an event published now arrives.
        await _service.SendEventAsync(new Dxl.Messages.DxlEvent("/tiedxl/test/listen-only"));
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref received) == 1, TimeSpan.FromSeconds(10)), "no event after the reconnect");
        var outage = outages[0];
        output.WriteLine($"listen-only, quick timings: noticed after {noticed.TotalSeconds:0.0} s; outage {outage.DisconnectedAt:HH:mm:ss.f}-{outage.ReconnectedAt:HH:mm:ss.f}");
        Assert.True(outage.DisconnectedAt <= frozenAt.AddSeconds(1), "the window starts when traffic stopped");
        Assert.True(outage.ReconnectedAt > outage.DisconnectedAt);
        Assert.Equal(1, client.ReconnectCount);
    }

    [Fact]
    public async Task APublisherNoticesAFrozenBrokerByItsUnconfirmedEventsAndPublishesThemAfterTheHeal()
    {
        var proxy = NewProxy();
        await using var client = ClientThrough(proxy);
        client.Timings = Quick with { IdleBeforeCheck = TimeSpan.FromMinutes(10) }; // only the event confirmation can notice
        await client.ConnectAsync();
        var received = 0;
        await using var subscription = await _service.SubscribeAsync("/tiedxl/test/frozen-publisher", _ => { Interlocked.Increment(ref received); return Task.CompletedTask; });
        await client.SendEventAsync(new Dxl.Messages.DxlEvent("/tiedxl/test/frozen-publisher"), TimeSpan.FromSeconds(10));
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref received) == 1, TimeSpan.FromSeconds(10)));

        proxy.Freeze();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var sending = client.SendEventAsync(new Dxl.Messages.DxlEvent("/tiedxl/test/frozen-publisher"), TimeSpan.FromSeconds(30));
        Assert.True(await Poll.UntilAsync(() => client.State != DxlConnectionState.Connected, TimeSpan.FromSeconds(15)), "the frozen line went unnoticed");
        var noticed = clock.Elapsed;
        Assert.False(sending.IsCompleted, "an event written into a frozen line is not sent");
        proxy.Heal();
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref received) >= 2, TimeSpan.FromSeconds(10)), "the event did not arrive after the heal");
        output.WriteLine($"event publisher, quick timings: frozen line noticed after {noticed.TotalSeconds:0.0} s; event delivered {Volatile.Read(ref received) - 1} time(s) after the heal");
        Assert.True(noticed < TimeSpan.FromSeconds(6), $"noticed after {noticed.TotalSeconds:0.0} s");
    }

    [Fact]
    [Trait("Duration", "Long")]
    public async Task AListenOnlySessionNoticesAFrozenBrokerWithinSixtySecondsWithTheDefaults()
    {
        var proxy = NewProxy();
        await using var client = ClientThrough(proxy);
        await client.ConnectAsync();
        await using var subscription = await client.SubscribeAsync("/tiedxl/test/listen-only-defaults", _ => Task.CompletedTask);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        proxy.Freeze();
        var noticed = await Poll.UntilAsync(() => client.State != DxlConnectionState.Connected, TimeSpan.FromSeconds(70));
        output.WriteLine($"listen-only, default timings: noticed after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(noticed && clock.Elapsed <= TimeSpan.FromSeconds(60), $"noticed: {noticed}, after {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
