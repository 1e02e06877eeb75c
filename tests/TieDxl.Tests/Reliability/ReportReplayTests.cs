using System.Collections.Concurrent;
using TieDxl.Dxl.Client;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;
using Xunit.Abstractions;

namespace TieDxl.Tests.Reliability;

/// <summary>
/// External reports across a broker crash after the work that sent them has ended: a real mosquitto (mutual TLS)
/// killed and restarted, the TIE simulator on its own DXL client, counting the reports it applied and the lookups
/// it answered. The simulator reaches mosquitto through a <see cref="FaultProxy"/>, so a test can hold back what the
/// broker read but had not yet passed on to the TIE server when it crashed.
/// </summary>
public sealed class ReportReplayTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly MosquittoEnvironment _env = new();
    private readonly ConcurrentDictionary<string, int> _reportsReceived = new();
    private FaultProxy _tieLine = null!;
    private DxlClient _service = null!;
    private TieSimulator _simulator = null!;

    public async Task InitializeAsync()
    {
        _tieLine = new FaultProxy(_env.Broker.Port);
        var config = _env.NewConfig();
        config.Brokers.Clear();
        config.Brokers.Add(new Dxl.Config.DxlBroker("tie-line", "127.0.0.1", _tieLine.Port));
        _service = new DxlClient(config);
        await _service.ConnectAsync();
        _simulator = new TieSimulator(_service, new TieSimulatorOptions { PublishReputationChanges = false });
        _simulator.ExternalReportApplied += (_, item) => _reportsReceived.AddOrUpdate(item.Hashes.ToString(), 1, (_, n) => n + 1);
        await _simulator.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _service.DisposeAsync();
        _tieLine.Dispose();
        _env.Dispose();
    }

    /// <summary>Sends one External report per file, 64 at a time (as the cmdlet's default throttle), and waits for all.</summary>
    private static async Task ReportAllAsync(TieClient tie, IReadOnlyList<TieHashes> files)
    {
        using var throttle = new SemaphoreSlim(64);
        await Task.WhenAll(files.Select(async (file, i) =>
        {
            await throttle.WaitAsync();
            try { await tie.SetExternalFileReputationAsync(file, TrustLevel.MightBeTrusted, FileType.PeExe, $"replay-{i}.exe"); }
            finally { throttle.Release(); }
        }));
    }

    /// <summary>
    /// Kills the broker, keeps it down for <paramref name="down"/>, starts it, and waits for the client's reconnect.
    /// What the line to the TIE server still held dies with the broker's connections.
    /// </summary>
    private async Task RestartBrokerAsync(DxlClient client, TimeSpan down)
    {
        var reconnects = client.ReconnectCount;
        _env.Broker.Kill();
        _tieLine.CloseAll();
        _tieLine.Heal();
        await Task.Delay(down);
        _env.Broker.Start();
        Assert.True(await Poll.UntilAsync(() => client.ReconnectCount > reconnects && client.IsConnected, TimeSpan.FromSeconds(30)), "no reconnect");
    }

    [Fact]
    public async Task EveryReportOfARunThatEndedJustBeforeABrokerCrashReachesTieWithoutAnotherCall()
    {
        await using var client = await _env.ConnectAsync();
        var tie = new TieClient(client);
        var files = BulkRun.NewFiles(200);
        await ReportAllAsync(tie, files[..150]);
        Assert.True(await Poll.UntilAsync(() => files[..150].All(f => _reportsReceived.ContainsKey(f.ToString())), TimeSpan.FromSeconds(20)),
            "the reports before the freeze did not arrive");
        // The last 50 are read by the broker (each confirmed) but not yet passed on to the TIE server when it crashes.
        _tieLine.Freeze();
        await ReportAllAsync(tie, files[150..]);

        // The run has ended; nothing else is called on the client from here on.
        output.WriteLine($"run ended {DateTimeOffset.UtcNow:HH:mm:ss.fff}");
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var requestsBefore = _simulator.RequestCount;
        await RestartBrokerAsync(client, TimeSpan.FromSeconds(2));
        var all = await Poll.UntilAsync(() => files.All(f => _reportsReceived.ContainsKey(f.ToString())), TimeSpan.FromSeconds(30));
        var outage = client.LastOutage;
        output.WriteLine($"outage {outage?.DisconnectedAt:HH:mm:ss.fff}-{outage?.ReconnectedAt:HH:mm:ss.fff}, now {DateTimeOffset.UtcNow:HH:mm:ss.fff}");

        var lost = files.Count(f => !_reportsReceived.ContainsKey(f.ToString()));
        var duplicates = _reportsReceived.Values.Count(n => n > 1);
        output.WriteLine($"200 reports, broker killed 0.3 s after the run and down 2 s: {lost} never received, {duplicates} received twice or more; " +
                         $"{_simulator.RequestCount - requestsBefore} lookup(s) since the kill; outage {client.LastOutage?.Duration.TotalSeconds:0.0} s");
        Assert.True(all, $"{lost} of 200 reports never reached the TIE simulator");
        Assert.True(_simulator.RequestCount - requestsBefore <= 1, "one probe per reconnect at most");
    }

    [Fact]
    public async Task AfterAReconnectLaterReportsAndLookupsCostNoProbeLookup()
    {
        await using var reporter = await _env.ConnectAsync();
        await using var lookupsOnly = await _env.ConnectAsync();
        var reporting = new TieClient(reporter);
        var looking = new TieClient(lookupsOnly);
        await ReportAllAsync(reporting, BulkRun.NewFiles(20));
        await looking.GetFileReputationAsync(BulkRun.NewFiles(1)[0]);

        var requestsAtRestart = _simulator.RequestCount;
        await RestartBrokerAsync(reporter, TimeSpan.FromSeconds(1));
        Assert.True(await Poll.UntilAsync(() => lookupsOnly.ReconnectCount >= 1 && lookupsOnly.IsConnected, TimeSpan.FromSeconds(30)), "no reconnect");
        // The reporter's one probe after the reconnect runs by itself (the other client, which never reported, makes
        // none): wait until it reached the simulator and its replay went out, then count.
        Assert.True(await Poll.UntilAsync(() => _simulator.RequestCount > requestsAtRestart, TimeSpan.FromSeconds(30)), "no probe after the reconnect");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var requestsBefore = _simulator.RequestCount;

        const int LaterCommands = 10;
        for (var i = 0; i < LaterCommands; i++)
            await ReportAllAsync(reporting, BulkRun.NewFiles(1));
        var afterReports = _simulator.RequestCount;
        for (var i = 0; i < LaterCommands; i++)
            await looking.GetFileReputationAsync(BulkRun.NewFiles(1)[0]);

        output.WriteLine($"{requestsBefore - requestsAtRestart} probe lookup(s) after the reconnect; then {afterReports - requestsBefore} lookup(s) for {LaterCommands} reports, " +
                         $"{_simulator.RequestCount - afterReports} for {LaterCommands} lookups");
        Assert.Equal(requestsBefore, afterReports);
        Assert.Equal(LaterCommands, _simulator.RequestCount - afterReports);
    }
}
