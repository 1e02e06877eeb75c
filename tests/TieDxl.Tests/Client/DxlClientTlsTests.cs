using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Tests.Client;

/// <summary>TLS failures against a real mosquitto: each is a distinct, clear error and never a connection.</summary>
public sealed class DxlClientTlsTests : IDisposable
{
    private readonly DxlTestPki _pki = DxlTestPki.Create();
    private readonly DxlTestPki _otherPki = DxlTestPki.Create(caName: "Somebody Else's CA");
    private readonly string _folder = Directory.CreateTempSubdirectory("tiedxl-tls-").FullName;

    public void Dispose()
    {
        _pki.Dispose();
        _otherPki.Dispose();
        try { Directory.Delete(_folder, true); } catch (IOException) { }
    }

    /// <summary>mosquitto with the given broker certificate; clients trust <see cref="_pki"/>'s CA.</summary>
    private (MosquittoBroker broker, DxlClientConfig config) Start(DxlTestCertificate brokerCert, DxlTestPki brokerCaForClients, DxlTestCertificate? client = null)
    {
        var port = MosquittoBroker.FreeLoopbackPort();
        var files = _pki.WriteClientFiles(Path.Combine(_folder, Guid.NewGuid().ToString("N")), new DxlTestConfigOptions { Port = port, Client = client });
        var brokerCertPath = Path.Combine(files.Folder, "served-broker.crt");
        var brokerKeyPath = Path.Combine(files.Folder, "served-broker.key");
        brokerCert.WriteCertificate(brokerCertPath);
        brokerCert.WritePrivateKey(brokerKeyPath);
        // The CA that mosquitto uses to check client certificates.
        var clientCaPath = Path.Combine(files.Folder, "client-ca.crt");
        File.WriteAllText(clientCaPath, brokerCaForClients.Ca.CertificatePem());
        var broker = new MosquittoBroker(clientCaPath, brokerCertPath, brokerKeyPath, port);
        var config = DxlClientConfig.Load(files.ConfigPath);
        config.ConnectRetries = 0;
        config.ConnectTimeout = TimeSpan.FromSeconds(5);
        return (broker, config);
    }

    [Fact]
    public async Task ABrokerSignedByAnotherCaIsRefused()
    {
        var (broker, config) = Start(_otherPki.IssueBroker(), _pki);
        using (broker)
        {
            await using var client = new DxlClient(config);
            var error = await Assert.ThrowsAsync<DxlTlsException>(() => client.ConnectAsync());
            Assert.Contains("Somebody Else", error.Message);
            Assert.False(client.IsConnected);
        }
    }

    [Fact]
    public async Task AnExpiredBrokerCertificateIsRefused()
    {
        var (broker, config) = Start(_pki.IssueBroker(validity: DxlTestValidity.Expired), _pki);
        using (broker)
        {
            await using var client = new DxlClient(config);
            var error = await Assert.ThrowsAsync<DxlTlsException>(() => client.ConnectAsync());
            Assert.Contains("expired", error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task AHostNameMismatchIsAcceptedByDefaultAndRefusedWhenStrict()
    {
        var (broker, config) = Start(_pki.IssueBroker("dxl.example.test", dnsNames: ["dxl.example.test"], ipAddresses: []), _pki);
        using (broker)
        {
            await using (var lenient = new DxlClient(config))
            {
                await lenient.ConnectAsync();
                Assert.True(lenient.IsConnected);
            }

            config.StrictHostNameCheck = true;
            config.ClientId = "{" + Guid.NewGuid() + "}";
            await using var strict = new DxlClient(config);
            var error = await Assert.ThrowsAsync<DxlTlsException>(() => strict.ConnectAsync());
            Assert.Contains("127.0.0.1", error.Message);
        }
    }

    [Fact]
    public async Task AClientCertificateTheBrokerDoesNotTrustGetsAClearError()
    {
        var (broker, config) = Start(_pki.Broker, _pki, client: _otherPki.IssueClient());
        using (broker)
        {
            await using var client = new DxlClient(config);
            var error = await Assert.ThrowsAsync<DxlTlsException>(() => client.ConnectAsync());
            Assert.Contains("client's certificate", error.Message);
        }
    }

    [Fact]
    public async Task APlaintextMqttPortIsRefusedAndNothingWeakerIsTried()
    {
        using var plain = MosquittoBroker.StartPlainText();
        var files = _pki.WriteClientFiles(Path.Combine(_folder, "plain"), new DxlTestConfigOptions { Port = plain.Port });
        var config = DxlClientConfig.Load(files.ConfigPath);
        config.ConnectRetries = 0;
        config.ConnectTimeout = TimeSpan.FromSeconds(5);
        await using var client = new DxlClient(config);

        var error = await Assert.ThrowsAsync<DxlTlsException>(() => client.ConnectAsync());

        Assert.False(client.IsConnected);
        Assert.Contains("TLS", error.Message);
    }

    [Fact]
    public async Task APortWithNothingListeningIsAConnectionError()
    {
        var files = _pki.WriteClientFiles(Path.Combine(_folder, "closed"), new DxlTestConfigOptions { Port = MosquittoBroker.FreeLoopbackPort() });
        var config = DxlClientConfig.Load(files.ConfigPath);
        config.ConnectRetries = 0;
        await using var client = new DxlClient(config);
        var error = await Assert.ThrowsAsync<DxlConnectionException>(() => client.ConnectAsync());
        Assert.Contains("refused", error.Message);
    }
}
