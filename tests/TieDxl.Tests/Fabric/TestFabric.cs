using System.Security.Cryptography.X509Certificates;
using TieDxl.Fabric.Broker;

namespace TieDxl.Tests.Fabric;

/// <summary>A started broker with its own throwaway CA, plus client helpers.</summary>
internal sealed class TestFabric : IAsyncDisposable
{
    private readonly List<TestDxlClient> _clients = new();

    private TestFabric(TestPki pki, DxlFabricBroker broker)
    {
        Pki = pki;
        Broker = broker;
    }

    public TestPki Pki { get; }
    public DxlFabricBroker Broker { get; }
    public int Port => Broker.Port;

    public static async Task<TestFabric> StartAsync(Action<DxlFabricBrokerOptions>? configure = null)
    {
        var pki = new TestPki("TieDxl test CA " + Guid.NewGuid().ToString("N")[..8]);
        var options = new DxlFabricBrokerOptions
        {
            ServerCertificate = pki.IssueServer(),
            ClientCertificateAuthorities = new X509Certificate2Collection { pki.Ca },
        };
        configure?.Invoke(options);
        var broker = new DxlFabricBroker(options);
        await broker.StartAsync();
        return new TestFabric(pki, broker);
    }

    public async Task<TestDxlClient> ConnectAsync(string name)
    {
        var client = await TestDxlClient.ConnectAsync(Port, Pki.IssueClient(name), Pki.Ca);
        _clients.Add(client);
        return client;
    }

    public async Task<TestDxlClient> ConnectAsync(X509Certificate2 certificate)
    {
        var client = await TestDxlClient.ConnectAsync(Port, certificate, Pki.Ca);
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await Broker.DisposeAsync();
    }
}
