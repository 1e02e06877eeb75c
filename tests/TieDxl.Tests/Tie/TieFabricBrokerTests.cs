using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Fabric.Broker;
using TieDxl.Fabric.Pki;
using TieDxl.Fabric.Simulator;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>
/// TIE over the embedded DXL broker, which has a service registry: requests are routed to the registered simulator,
/// and with none registered the broker answers 0x80000001 (service unavailable) at once.
/// </summary>
public sealed class TieFabricBrokerTests : IAsyncLifetime
{
    private readonly DxlTestPki _pki = DxlTestPki.Create();
    private readonly string _folder = Directory.CreateTempSubdirectory("tiedxl-tie-fabric-").FullName;
    private DxlFabricBroker _broker = null!;
    private DxlTestPkiFiles _files = null!;
    private readonly List<DxlClient> _clients = new();

    public async Task InitializeAsync()
    {
        _broker = new DxlFabricBroker(new DxlFabricBrokerOptions
        {
            ServerCertificate = _pki.Broker.Certificate,
            ClientCertificateAuthorities = _pki.CaCertificates,
        });
        await _broker.StartAsync();
        _files = _pki.WriteClientFiles(_folder, new DxlTestConfigOptions { Port = _broker.Port });
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _broker.DisposeAsync();
        _pki.Dispose();
        try { Directory.Delete(_folder, true); } catch (IOException) { }
    }

    private async Task<DxlClient> ConnectAsync()
    {
        var config = DxlClientConfig.Load(_files.ConfigPath);
        config.ConnectRetries = 0;
        var client = new DxlClient(config);
        _clients.Add(client);
        await client.ConnectAsync();
        return client;
    }

    [Fact]
    public async Task WithoutASimulatorTheServiceIsUnavailableAndWithOneItAnswers()
    {
        var tie = new TieClient(await ConnectAsync()) { DefaultTimeout = TimeSpan.FromSeconds(10) };

        var unavailable = await Assert.ThrowsAsync<TieServiceUnavailableException>(() => tie.GetFileReputationAsync(Notepad));
        Assert.Equal(TieErrorKind.ServiceUnavailable, unavailable.Kind);
        Assert.Contains(TieTopics.FileReputation, unavailable.Message);

        var sim = new TieSimulator(await ConnectAsync(), new TieSimulatorOptions { RegistrationAcknowledgementTimeout = TimeSpan.FromSeconds(10) });
        await sim.StartAsync();
        var r = await tie.GetFileReputationAsync(Notepad);
        Assert.Equal(TrustLevel.KnownTrusted, r.Gti!.TrustLevel);

        var file = TieHashes.FromHex(new string('c', 64));
        var change = new TaskCompletionSource<FileReputationChangeEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (await tie.SubscribeFileReputationChangeAsync(e => { change.TrySetResult(e); return Task.CompletedTask; }))
        {
            await tie.SetFileReputationAsync(file, TrustLevel.KnownMalicious, "evil.exe");
            var e = await change.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(TrustLevel.KnownMalicious, e.GetNew(3)!.TrustLevel);
        }
        Assert.Equal(TrustLevel.KnownMalicious, (await tie.GetFileReputationAsync(file)).Enterprise!.TrustLevel);
        var refs = await tie.GetCertificateFirstReferencesAsync(TieSimulatorSeed.Cert2Sha1);
        Assert.Equal(2, refs.Agents.Count);

        await sim.StopAsync();
        await Assert.ThrowsAsync<TieServiceUnavailableException>(() => tie.GetCertificateReputationAsync(TieSimulatorSeed.Cert1Sha1));
    }
}
