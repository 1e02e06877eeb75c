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
