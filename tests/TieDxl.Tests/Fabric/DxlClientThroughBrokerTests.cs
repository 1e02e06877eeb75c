using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;
using TieDxl.Fabric.Broker;
using TieDxl.Fabric.Pki;

namespace TieDxl.Tests.Fabric;

/// <summary>The project's DxlClient against the embedded broker: registry, routing and fabric errors included.</summary>
public class DxlClientThroughBrokerTests
{
    private static async Task<DxlClient> ConnectAsync(TestFabric fabric, string name)
    {
        var config = new DxlClientConfig
        {
            ClientCertificate = fabric.Pki.IssueClient(name),
            BrokerCaCertificates = new X509Certificate2Collection { fabric.Pki.Ca },
            ConnectRetries = 0,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        config.Brokers.Add(new DxlBroker("embedded", "127.0.0.1", fabric.Port));
        var client = new DxlClient(config);
        await client.ConnectAsync();
        return client;
    }

    [Fact]
    public async Task RequestIsRoutedToARegisteredDxlClientService()
    {
        await using var fabric = await TestFabric.StartAsync();
        await using var service = await ConnectAsync(fabric, "service");
        var seen = new ConcurrentQueue<DxlRequest>();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/test/echo").AddHandler("/tiedxl/test/echo/run", (request, _) =>
        {
            seen.Enqueue(request);
            return ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, request.Payload));
        }), acknowledgementTimeout: TimeSpan.FromSeconds(10));
        Assert.Equal(1, fabric.Broker.ServiceCount);
        await using var client = await ConnectAsync(fabric, "client");

        var response = await client.RequestAsync(new DxlRequest("/tiedxl/test/echo/run", Encoding.UTF8.GetBytes("héllo")), TimeSpan.FromSeconds(10));

        Assert.Equal("héllo", response.PayloadText);
        Assert.Equal(3, response.Version);
        var request = Assert.Single(seen);
        Assert.Equal(fabric.Broker.BrokerGuid, request.SourceBrokerId);
        Assert.False(string.IsNullOrEmpty(request.ServiceId));
    }

    [Fact]
    public async Task ConcurrentRequestsOverTwoServiceInstancesAreEachAnsweredOnce()
    {
        await using var fabric = await TestFabric.StartAsync();
        var counts = new ConcurrentDictionary<string, int>();
        DxlService Echo(string who) => new DxlService("/tiedxl/test/echo").AddHandler("/tiedxl/test/echo/many", (request, _) =>
        {
            counts.AddOrUpdate(who, 1, (_, n) => n + 1);
            return ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, request.Payload));
        });
        await using var one = await ConnectAsync(fabric, "one");
        await using var two = await ConnectAsync(fabric, "two");
        await one.RegisterServiceAsync(Echo("one"), acknowledgementTimeout: TimeSpan.FromSeconds(10));
        await two.RegisterServiceAsync(Echo("two"), acknowledgementTimeout: TimeSpan.FromSeconds(10));
        await using var client = await ConnectAsync(fabric, "client");

        const int n = 400;
        var results = await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
            (i, (await client.RequestAsync(new DxlRequest("/tiedxl/test/echo/many", Encoding.UTF8.GetBytes("n" + i)), TimeSpan.FromSeconds(30))).PayloadText)));

        Assert.All(results, r => Assert.Equal("n" + r.i, r.PayloadText));
        Assert.Equal(n, counts.Values.Sum());
        Assert.True(counts.GetValueOrDefault("one") > 0 && counts.GetValueOrDefault("two") > 0);
        Assert.Equal(0, client.PendingRequestCount);
    }

    [Fact]
    public async Task RequestWithoutServiceFailsFastWithServiceNotFound()
    {
        await using var fabric = await TestFabric.StartAsync();
        await using var client = await ConnectAsync(fabric, "client");
        var error = await Assert.ThrowsAsync<DxlErrorResponseException>(() =>
            client.RequestAsync(new DxlRequest("/tiedxl/test/nobody", "{}"u8.ToArray()), TimeSpan.FromSeconds(10)));
        Assert.True(error.IsServiceNotFound);
        Assert.Equal("unable to locate service for request", error.ErrorMessage);
    }

    [Theory]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048)]
    public async Task ConfigFileFromTheTestPkiConnectsToTheBroker(DxlTestKeyAlgorithm algorithm)
    {
        using var pki = DxlTestPki.Create(algorithm);
        await using var broker = new DxlFabricBroker(DxlFabricBrokerOptions.ForTestPki(pki));
        await broker.StartAsync();
        var folder = Directory.CreateTempSubdirectory("tiedxl-fabric-").FullName;
        try
        {
            var files = pki.WriteClientFiles(folder, new DxlTestConfigOptions { Port = broker.Port });
            var config = DxlClientConfig.Load(files.ConfigPath);
            config.ConnectRetries = 0;
            await using var client = new DxlClient(config);
            await client.ConnectAsync();
            var health = await client.RequestAsync(new DxlRequest(DxlTopics.BrokerHealth, "{}"u8.ToArray()), TimeSpan.FromSeconds(10));
            Assert.Contains("\"connectedClients\":1", health.PayloadText);
            Assert.Equal(broker.BrokerGuid, health.SourceBrokerId);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
