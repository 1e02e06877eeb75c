using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Tls;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Config;

namespace TieDxl.Tests.Tls;

public class DxlTestPkiTests : IClassFixture<TestPkiFixture>, IDisposable
{
    private readonly TestPkiFixture _pki;
    private readonly TempFolder _dir = new();

    public DxlTestPkiTests(TestPkiFixture pki) => _pki = pki;

    public void Dispose() => _dir.Dispose();

    private static string? Eku(X509Certificate2 c) =>
        c.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault()?.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Single().Value;

    [Fact]
    public void CertificatesHaveTheExpectedShape()
    {
        var pki = _pki.Ec;
        Assert.True(pki.Ca.Certificate.HasPrivateKey);
        Assert.True(pki.Ca.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.True(pki.Broker.Certificate.HasPrivateKey);
        Assert.Equal("1.3.6.1.5.5.7.3.1", Eku(pki.Broker.Certificate));
        Assert.Equal("1.3.6.1.5.5.7.3.2", Eku(pki.Client.Certificate));
        Assert.Equal(pki.Ca.Certificate.Subject, pki.Broker.Certificate.Issuer);
        Assert.True(pki.Broker.Certificate.MatchesHostname("localhost"));
        Assert.True(pki.Broker.Certificate.MatchesHostname("127.0.0.1"));
        Assert.True(pki.Broker.Certificate.MatchesHostname("::1"));
        Assert.Same(pki.Client, pki.Client);
        Assert.All(pki.CaCertificates.Cast<X509Certificate2>(), c => Assert.False(c.HasPrivateKey));
        Assert.Equal(DxlTestKeyAlgorithm.Rsa2048, _pki.Rsa.Client.Algorithm);
        Assert.Equal(DxlTestKeyAlgorithm.Rsa2048, _pki.Ec.IssueClient("r", algorithm: DxlTestKeyAlgorithm.Rsa2048).Algorithm);
    }

    [Fact]
    public void WrongFormatForTheKeyTypeThrows()
    {
        Assert.Throws<InvalidOperationException>(() => _pki.Ec.Client.PrivateKeyPem(DxlTestKeyFormat.Pkcs1Rsa));
        Assert.Throws<InvalidOperationException>(() => _pki.Rsa.Client.PrivateKeyPem(DxlTestKeyFormat.Sec1Ec));
        Assert.Throws<ArgumentException>(() => _pki.Ec.Client.PrivateKeyPem(DxlTestKeyFormat.EncryptedPkcs8));
    }

    [Fact]
    public void WrittenFilesLoadThroughTheConfig()
    {
        var files = _pki.Ec.WriteClientFiles(_dir.Path, new DxlTestConfigOptions { Port = 18883, WebSocketPort = 18443, ClientId = "test-client" });
        var text = File.ReadAllText(files.ConfigPath);
        Assert.Contains("BrokerCertChain=ca-broker.crt\n", text);
        Assert.Contains("local-broker=local-broker;18883;127.0.0.1;127.0.0.1\n", text);

        var config = DxlClientConfig.Load(files.ConfigPath);
        Assert.Equal("test-client", config.ClientId);
        Assert.Equal(files.CaPath, config.BrokerCertChainPath);
        Assert.Equal(new DxlBroker("local-broker", "127.0.0.1", 18883, "127.0.0.1"), Assert.Single(config.Brokers));
        Assert.Equal(18443, Assert.Single(config.WebSocketBrokers).Port);

        var cert = config.GetClientCertificate();
        Assert.Equal(_pki.Ec.Client.Certificate.Thumbprint, cert.Thumbprint);
        Assert.True(cert.HasPrivateKey);
        Assert.Same(cert, config.GetClientCertificate());

        var cas = config.GetBrokerCaCertificates();
        Assert.Equal(_pki.Ec.Ca.Certificate.Thumbprint, Assert.Single(cas).Thumbprint);
        Assert.Same(cas, config.GetBrokerCaCertificates());

        var validator = new DxlServerCertificateValidator(cas, true);
        using var broker = X509CertificateLoader.LoadCertificateFromFile(files.BrokerCertPath);
        Assert.Null(validator.Check(broker, null, "127.0.0.1", System.Net.Security.SslPolicyErrors.None));
    }

    [Theory]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256, DxlTestKeyFormat.Sec1Ec)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048, DxlTestKeyFormat.Pkcs1Rsa)]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256, DxlTestKeyFormat.EncryptedPkcs8)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048, DxlTestKeyFormat.Pkcs12)]
    public void EveryKeyFormatLoadsThroughTheConfig(DxlTestKeyAlgorithm algorithm, DxlTestKeyFormat format)
    {
        var pki = algorithm == DxlTestKeyAlgorithm.Rsa2048 ? _pki.Rsa : _pki.Ec;
        var files = pki.WriteClientFiles(_dir.Path, new DxlTestConfigOptions
        {
            ClientKeyFormat = format,
            KeyPassword = format is DxlTestKeyFormat.EncryptedPkcs8 or DxlTestKeyFormat.Pkcs12 ? "pki-pw" : null,
            WritePasswordToConfig = true,
        });
        var config = DxlClientConfig.Load(files.ConfigPath);
        Assert.Equal(pki.Client.Certificate.Thumbprint, config.GetClientCertificate().Thumbprint);
    }

    [Fact]
    public void ConfigCertificateErrorsNameTheFile()
    {
        var files = _pki.Ec.WriteClientFiles(_dir.Path, new DxlTestConfigOptions { ClientKeyFormat = DxlTestKeyFormat.EncryptedPkcs8, KeyPassword = "pw" });
        Assert.DoesNotContain("PrivateKeyPassword", File.ReadAllText(files.ConfigPath));
        var config = DxlClientConfig.Load(files.ConfigPath);
        var e = Assert.Throws<DxlConfigException>(() => config.GetClientCertificate());
        Assert.Equal(files.ClientKeyPath, e.File);
        Assert.Contains("encrypted; supply its password", e.Message);

        config.PrivateKeyPassword = "pw";
        Assert.True(config.GetClientCertificate().HasPrivateKey);
    }

    [Fact]
    public void CodeBuiltConfigResolvesRelativePathsAgainstItsFile()
    {
        var files = _pki.Ec.WriteClientFiles(_dir.Path);
        var config = new DxlClientConfig
        {
            ConfigFilePath = Path.Combine(_dir.Path, "virtual.config"),
            BrokerCertChainPath = DxlTestPki.CaFileName,
            CertFilePath = DxlTestPki.ClientCertFileName,
            PrivateKeyPath = DxlTestPki.ClientKeyFileName,
        };
        Assert.Single(config.GetBrokerCaCertificates());
        Assert.Equal(_pki.Ec.Client.Certificate.Thumbprint, config.GetClientCertificate().Thumbprint);
        Assert.Equal(files.CaPath, config.ResolvePath(DxlTestPki.CaFileName));
    }

    [Fact]
    public void InCodeCertificatesWinOverFiles()
    {
        var config = new DxlClientConfig { ClientCertificate = _pki.Ec.Client.Certificate, BrokerCaCertificates = _pki.Ec.CaCertificates };
        Assert.Same(_pki.Ec.Client.Certificate, config.GetClientCertificate());
        Assert.Same(config.BrokerCaCertificates, config.GetBrokerCaCertificates());
    }

    [Fact]
    public void ConfigMakesAValidatorThatNamesTheBundleFile()
    {
        var files = _pki.Other.WriteClientFiles(_dir.Path);
        var config = DxlClientConfig.Load(files.ConfigPath);
        var validator = config.CreateServerCertificateValidator();
        Assert.False(validator.StrictHostName);
        Assert.Equal(files.CaPath, validator.TrustedRootsSource);
        var reason = validator.Check(_pki.Ec.Broker.Certificate, null, "localhost", System.Net.Security.SslPolicyErrors.None);
        Assert.Contains($"configured bundle {files.CaPath} <CN=Unknown CA", reason);

        config.StrictHostNameCheck = true;
        Assert.True(config.CreateServerCertificateValidator().StrictHostName);
    }

    [Fact]
    public void NothingConfigured()
    {
        var config = new DxlClientConfig();
        Assert.Equal("CertFile", Assert.Throws<DxlConfigException>(() => config.GetClientCertificate()).Setting);
        Assert.Equal("BrokerCertChain", Assert.Throws<DxlConfigException>(() => config.GetBrokerCaCertificates()).Setting);
    }

    [Fact]
    public void PrivateKeysAreOwnerOnlyOnUnix()
    {
        if (OperatingSystem.IsWindows()) return;
        var files = _pki.Ec.WriteClientFiles(_dir.Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.ClientKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.BrokerKeyPath));
        // Rewriting keeps the mode.
        _pki.Ec.WriteClientFiles(_dir.Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.ClientKeyPath));
    }
}
