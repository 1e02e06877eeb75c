using System.Text;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Tests.Client;

/// <summary>Several brokers in one config: ordering, failover, and WebSocket brokers.</summary>
public sealed class DxlClientFailoverTests : IDisposable
{
    private readonly DxlTestPki _pki = DxlTestPki.Create();
    private readonly DxlTestPkiFiles _files;
    private readonly List<MosquittoBroker> _brokers = new();

    public DxlClientFailoverTests()
    {
        _files = _pki.WriteClientFiles(Directory.CreateTempSubdirectory("tiedxl-failover-").FullName);
    }

    public void Dispose()
    {
        foreach (var broker in _brokers) broker.Dispose();
        _pki.Dispose();
        try { Directory.Delete(_files.Folder, true); } catch (IOException) { }
    }

    private MosquittoBroker StartBroker(int webSocketPort = 0)
    {
        var broker = new MosquittoBroker(_files.CaPath, _files.BrokerCertPath, _files.BrokerKeyPath, webSocketPort: webSocketPort);
        _brokers.Add(broker);
        return broker;
    }

    private DxlClientConfig Config(params DxlBroker[] brokers)
    {
        var config = DxlClientConfig.Load(_files.ConfigPath);
        config.Brokers.Clear();
        config.Brokers.AddRange(brokers);
        config.ConnectRetries = 0;
        config.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        config.ReconnectDelayMax = TimeSpan.FromMilliseconds(400);
        return config;
    }

    [Fact]
    public async Task WithTheFirstBrokerDownTheClientConnectsToTheSecond()
    {
        var live = StartBroker();
        var down = new DxlBroker("down", "127.0.0.1", MosquittoBroker.FreeLoopbackPort());
        var up = new DxlBroker("up", "127.0.0.1", live.Port);

        await using var client = new DxlClient(Config(down, up));
        await client.ConnectAsync();

        Assert.Equal(up, client.CurrentBroker);
    }

    [Fact]
    public async Task WhenTheLiveBrokerDiesTheClientFailsOverToTheOther()
    {
        var first = StartBroker();
        var second = StartBroker();
        var brokers = new[] { new DxlBroker("first", "127.0.0.1", first.Port), new DxlBroker("second", "127.0.0.1", second.Port) };
        await using var client = new DxlClient(Config(brokers));
        await client.ConnectAsync();
        var initial = client.CurrentBroker!;
        var initialProcess = initial.Port == first.Port ? first : second;

        initialProcess.Kill();
        await DxlClientMosquittoTests.WaitUntil(() => client.IsConnected && client.CurrentBroker is not null && client.CurrentBroker != initial, 20_000);

        // Requests work on the new broker, with a service that also failed over.
        var topic = $"/tiedxl/test/failover/{Guid.NewGuid():N}";
        var survivor = initial.Port == first.Port ? second : first;
        var serviceConfig = Config(new DxlBroker("survivor", "127.0.0.1", survivor.Port));
        await using var service = new DxlClient(serviceConfig);
        await service.ConnectAsync();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/test/failover").AddHandler(topic,
            (request, _) => ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, request.Payload))));
        var response = await client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("moved")), TimeSpan.FromSeconds(10));
        Assert.Equal("moved", response.PayloadText);
    }

    [Fact]
    public async Task AWebSocketBrokerIsReachedThroughTheConfiguredHttpProxy()
    {
        var broker = StartBroker(webSocketPort: MosquittoBroker.FreeLoopbackPort());
        using var proxy = new ConnectProxy();
        var config = Config();
        config.WebSocketBrokers.Add(new DxlBroker("ws", "127.0.0.1", broker.WebSocketPort, IsWebSocket: true));
        config.Proxy = new DxlProxy("127.0.0.1", proxy.Port);
        await using var client = new DxlClient(config);

        await client.ConnectAsync();
        await client.PingReplyTopicAsync(TimeSpan.FromSeconds(10));

        Assert.True(proxy.Tunnels >= 1, "the connection went through the proxy");
        Assert.Contains(proxy.Requests, r => r.StartsWith($"CONNECT 127.0.0.1:{broker.WebSocketPort}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWebSocketBrokerCarriesRequestsOverWss()
    {
        var broker = StartBroker(webSocketPort: MosquittoBroker.FreeLoopbackPort());
        var config = Config();
        config.WebSocketBrokers.Add(new DxlBroker("ws", "127.0.0.1", broker.WebSocketPort, IsWebSocket: true));
        config.UseWebSockets = true;
        var topic = $"/tiedxl/test/wss/{Guid.NewGuid():N}";
        await using var service = new DxlClient(config);
        await service.ConnectAsync();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/test/wss").AddHandler(topic,
            (request, _) => ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, request.Payload))));

        var clientConfig = Config();
        clientConfig.WebSocketBrokers.Add(new DxlBroker("ws", "127.0.0.1", broker.WebSocketPort, IsWebSocket: true));
        await using var client = new DxlClient(clientConfig);
        await client.ConnectAsync();
        Assert.True(client.CurrentBroker!.IsWebSocket);

        var response = await client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("over websockets")), TimeSpan.FromSeconds(10));
        Assert.Equal("over websockets", response.PayloadText);
    }
}
