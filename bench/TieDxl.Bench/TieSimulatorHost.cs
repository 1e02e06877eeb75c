using TieDxl.Dxl.Client;
using TieDxl.Fabric.Simulator;

namespace TieDxl.Bench;

/// <summary>The TIE simulator for a benchmark broker: the fabric's own, or one hosted here for mosquitto.</summary>
internal sealed class TieSimulatorHost : IAsyncDisposable
{
    private readonly DxlClient? _client;
    private readonly TieSimulator? _simulator;

    private TieSimulatorHost(DxlClient? client, TieSimulator? simulator)
    {
        _client = client;
        _simulator = simulator;
    }

    public static async Task<TieSimulatorHost> StartAsync(BenchEnvironment environment, TimeSpan delay)
    {
        if (environment.Fabric?.Simulator is not null) return new TieSimulatorHost(null, null);
        var client = new DxlClient(environment.NewConfig());
        await client.ConnectAsync();
        var simulator = new TieSimulator(client, new TieSimulatorOptions { ResponseDelay = delay });
        await simulator.StartAsync();
        return new TieSimulatorHost(client, simulator);
    }

    public async ValueTask DisposeAsync()
    {
        if (_simulator is not null) await _simulator.DisposeAsync();
        if (_client is not null) await _client.DisposeAsync();
    }
}
