using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Fabric;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;
using Xunit.Abstractions;

namespace TieDxl.Tests.Reliability;

/// <summary>
/// The embedded DXL fabric, which (unlike mosquitto) answers "no service" (0x80000001) when no TIE service is
/// registered. The client and the TIE simulator each reach it through their own <see cref="FaultProxy"/>.
/// </summary>
public sealed class EmbeddedFabricRideThroughTests(ITestOutputHelper output) : IAsyncLifetime
{
    private DxlTestFabric _fabric = null!;
    private FaultProxy _clientLine = null!;
    private FaultProxy _serviceLine = null!;
    private DxlClient _service = null!;
    private TieSimulator _simulator = null!;

    public async Task InitializeAsync()
    {
        _fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        _clientLine = new FaultProxy(_fabric.Port);
        _serviceLine = new FaultProxy(_fabric.Port);
        _service = new DxlClient(Through(_serviceLine));
        await _service.ConnectAsync();
        _simulator = new TieSimulator(_service, new TieSimulatorOptions { RegistrationAcknowledgementTimeout = TimeSpan.FromSeconds(10) });
        await _simulator.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _service.DisposeAsync();
        _clientLine.Dispose();
        _serviceLine.Dispose();
        await _fabric.DisposeAsync();
    }

    private DxlClientConfig Through(FaultProxy line)
    {
        var config = _fabric.NewClientConfig();
        config.Brokers.Clear();
        config.Brokers.Add(new DxlBroker("fabric", "127.0.0.1", line.Port));
        config.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        config.ReconnectDelayMax = TimeSpan.FromMilliseconds(500);
        config.ConnectTimeout = TimeSpan.FromSeconds(5);
        config.ConnectRetries = 0;
        return config;
    }

    [Fact]
    public async Task ABrokerRestartWhereTheServiceComesBackThreeSecondsAfterTheClientLosesNoLookup()
    {
        await using var client = new DxlClient(Through(_clientLine));
        await client.ConnectAsync();
        var tie = new TieClient(client);
        var run = BulkRun.Start(tie, 10_000, 64, null, out var done);
        Assert.True(await Poll.UntilAsync(() => run.Completed >= 2_000, TimeSpan.FromSeconds(60)), "the run did not get going");

        // Both lines drop at once; the client is back after 2 s, the TIE service only after 5 s: meanwhile the fabric
        // answers "no service" to every lookup.
        var restartAt = run.Now;
        await Task.WhenAll(_clientLine.RestartAsync(TimeSpan.FromSeconds(2)), _serviceLine.RestartAsync(TimeSpan.FromSeconds(5)));
        await done.WaitAsync(TimeSpan.FromSeconds(120));

        output.WriteLine($"embedded fabric, client back after 2 s, service after 5 s (at {restartAt.TotalSeconds:0.0} s): {run.Results} results, " +
                         $"{run.Errors.Count} errors, {run.Elapsed.TotalSeconds:0.0} s; reconnects {client.ReconnectCount}");
        Assert.True(run.Errors.IsEmpty, run.ErrorSummary());
        Assert.Equal(10_000, run.Results);
        Assert.Equal(1, client.ReconnectCount);
    }

    [Fact]
    public async Task CancellationStopsWaitingRequestsPromptlyDuringAnOutage()
    {
        await using var client = new DxlClient(Through(_clientLine));
        await client.ConnectAsync();
        var tie = new TieClient(client);
        _clientLine.RefuseNew();
        _clientLine.CloseAll();
        Assert.True(await Poll.UntilAsync(() => client.State == DxlConnectionState.Reconnecting, TimeSpan.FromSeconds(10)));

        using var cancel = new CancellationTokenSource();
        var waiting = BulkRun.NewFiles(64).Select(f => tie.GetFileReputationAsync(f, TimeSpan.FromSeconds(60), cancel.Token)).ToArray();
        await Task.Delay(500);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        cancel.Cancel();
        foreach (var task in waiting) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"cancellation took {clock.Elapsed.TotalSeconds:0.0} s");
        _clientLine.AcceptNew();
    }
}
