using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Fabric.Pki;

namespace TieDxl.Tests.Infrastructure;

/// <summary>
/// A throwaway PKI, a real mosquitto over mutual TLS on a free loopback port, and the dxlclient.config that
/// points at it. One per test class (xunit class fixture).
/// </summary>
public sealed class MosquittoEnvironment : IDisposable
{
    public MosquittoEnvironment()
    {
        Pki = DxlTestPki.Create();
        Folder = Directory.CreateTempSubdirectory("tiedxl-env-").FullName;
        var port = MosquittoBroker.FreeLoopbackPort();
        Files = Pki.WriteClientFiles(Folder, new DxlTestConfigOptions { Port = port });
        Broker = new MosquittoBroker(Files.CaPath, Files.BrokerCertPath, Files.BrokerKeyPath, port);
    }

    public DxlTestPki Pki { get; }
    public string Folder { get; }
    public DxlTestPkiFiles Files { get; }
    public MosquittoBroker Broker { get; }

    /// <summary>A config read from the generated file (new client id each time), tuned for fast test reconnects.</summary>
    public DxlClientConfig NewConfig()
    {
        var config = DxlClientConfig.Load(Files.ConfigPath);
        config.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        config.ReconnectDelayMax = TimeSpan.FromMilliseconds(500);
        config.ConnectTimeout = TimeSpan.FromSeconds(5);
        config.ConnectRetries = 0;
        return config;
    }

    public async Task<DxlClient> ConnectAsync(DxlLogSink? log = null)
    {
        var client = new DxlClient(NewConfig(), log);
        await client.ConnectAsync();
        return client;
    }

    public void Dispose()
    {
        Broker.Dispose();
        Pki.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
