using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl;
using TieDxl.Dxl.Tls;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Config;

namespace TieDxl.Tests.Tls;

/// <summary>One EC and one RSA test PKI shared by the certificate tests (key generation is the slow part).</summary>
public sealed class TestPkiFixture : IDisposable
{
    public DxlTestPki Ec { get; } = DxlTestPki.Create(DxlTestKeyAlgorithm.EcdsaP256, "Fixture EC CA");
    public DxlTestPki Rsa { get; } = DxlTestPki.Create(DxlTestKeyAlgorithm.Rsa2048, "Fixture RSA CA");
    public DxlTestPki Other { get; } = DxlTestPki.Create(DxlTestKeyAlgorithm.EcdsaP256, "Unknown CA");

    public void Dispose()
    {
        Ec.Dispose();
        Rsa.Dispose();
        Other.Dispose();
    }
}

public class DxlCertificatesTests : IClassFixture<TestPkiFixture>, IDisposable
{
    private readonly TestPkiFixture _pki;
    private readonly TempFolder _dir = new();

    public DxlCertificatesTests(TestPkiFixture pki) => _pki = pki;

    public void Dispose() => _dir.Dispose();

    private DxlTestPki Pki(DxlTestKeyAlgorithm a) => a == DxlTestKeyAlgorithm.Rsa2048 ? _pki.Rsa : _pki.Ec;

    private (string Cert, string Key) Write(DxlTestCertificate c, DxlTestKeyFormat format, string? password = null)
    {
        var cert = _dir.Combine("c-" + Guid.NewGuid().ToString("N") + ".crt");
        var key = _dir.Combine("k-" + Guid.NewGuid().ToString("N") + ".key");
        c.WriteCertificate(cert);
        c.WritePrivateKey(key, format, password);
        return (cert, key);
    }

    private static void AssertUsable(X509Certificate2 loaded, DxlTestCertificate expected)
    {
        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(expected.Certificate.Thumbprint, loaded.Thumbprint);
        var data = new byte[] { 1, 2, 3 };
        if (expected.Algorithm == DxlTestKeyAlgorithm.Rsa2048)
        {
            using var rsa = loaded.GetRSAPrivateKey()!;
            var sig = rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            Assert.True(expected.Certificate.GetRSAPublicKey()!.VerifyData(data, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }
        else
        {
            using var ec = loaded.GetECDsaPrivateKey()!;
            var sig = ec.SignData(data, HashAlgorithmName.SHA256);
            Assert.True(expected.Certificate.GetECDsaPublicKey()!.VerifyData(data, sig, HashAlgorithmName.SHA256));
        }
    }

    /// <summary>The message names the file and carries no PEM or key material.</summary>
    private static void AssertClean(DxlConfigException e, string file, params string[] secrets)
    {
        Assert.Equal(file, e.File);
        Assert.Contains(file, e.Message);
        foreach (var text in new[] { e.Message, e.InnerException?.Message ?? "" })
        {
            Assert.DoesNotContain("-----BEGIN", text);
            Assert.DoesNotContain("PRIVATE KEY-----", text);
            foreach (var s in secrets) Assert.DoesNotContain(s, text);
        }
    }

    /// <summary>A few 16-character slices of the base64 body of a PEM file.</summary>
    private static string[] Slices(string pemPath)
    {
        var body = File.ReadAllLines(pemPath).Where(l => !l.StartsWith("-----", StringComparison.Ordinal) && l.Length >= 16).ToList();
        return body.Select(l => l[..16]).Take(4).ToArray();
    }

    [Theory]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256, DxlTestKeyFormat.Pkcs8)]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256, DxlTestKeyFormat.Sec1Ec)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048, DxlTestKeyFormat.Pkcs8)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048, DxlTestKeyFormat.Pkcs1Rsa)]
    public void LoadsPemKeys(DxlTestKeyAlgorithm algorithm, DxlTestKeyFormat format)
    {
        var client = Pki(algorithm).Client;
        var (cert, key) = Write(client, format);
        using var loaded = DxlCertificates.LoadClientCertificate(cert, key);
        AssertUsable(loaded, client);
    }

    [Theory]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048)]
    public void LoadsEncryptedPkcs8WithItsPassword(DxlTestKeyAlgorithm algorithm)
    {
        var client = Pki(algorithm).Client;
        var (cert, key) = Write(client, DxlTestKeyFormat.EncryptedPkcs8, "correct horse");
        Assert.Contains("ENCRYPTED PRIVATE KEY", File.ReadAllText(key));
        using var loaded = DxlCertificates.LoadClientCertificate(cert, key, "correct horse");
        AssertUsable(loaded, client);
    }

    [Theory]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256, "pfx-pass")]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048, "pfx-pass")]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256, null)]
    public void LoadsPkcs12(DxlTestKeyAlgorithm algorithm, string? password)
    {
        var client = Pki(algorithm).Client;
        var pfx = _dir.Combine("client.pfx");
        client.WritePrivateKey(pfx, DxlTestKeyFormat.Pkcs12, password);
        using var loaded = DxlCertificates.LoadClientCertificate(pfx, null, password);
        AssertUsable(loaded, client);
    }

    [Fact]
    public void Pkcs12AsCertFileIgnoresTheKeyPath()
    {
        var client = _pki.Ec.Client;
        var pfx = _dir.Combine("client.p12");
        client.WritePrivateKey(pfx, DxlTestKeyFormat.Pkcs12, "pw");
        using var loaded = DxlCertificates.LoadClientCertificate(pfx, pfx, "pw");
        AssertUsable(loaded, client);
    }

    [Fact]
    public void LoadsCertificateAndKeyFromOnePemFile()
    {
        var client = _pki.Ec.Client;
        var both = _dir.Write("both.pem", client.CertificatePem() + client.PrivateKeyPem());
        using var loaded = DxlCertificates.LoadClientCertificate(both, null);
        AssertUsable(loaded, client);
    }

    [Fact]
    public void KeyBeforeCertificateInTheSameFile()
    {
        var client = _pki.Rsa.Client;
        var both = _dir.Write("both.pem", client.PrivateKeyPem(DxlTestKeyFormat.Pkcs1Rsa) + client.CertificatePem());
        using var loaded = DxlCertificates.LoadClientCertificate(both, both);
        AssertUsable(loaded, client);
    }

    // ---- failures: each names the file and says what is wrong ---------------------------------------------

    [Fact]
    public void CertificateFileMissing()
    {
        var path = _dir.Combine("missing.crt");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(path, _dir.Combine("k.key")));
        AssertClean(e, path);
        Assert.Contains("certificate file does not exist", e.Message);
    }

    [Fact]
    public void KeyFileMissing()
    {
        var (cert, _) = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        var key = _dir.Combine("missing.key");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key));
        AssertClean(e, key);
        Assert.Contains("private key file does not exist", e.Message);
    }

    [Fact]
    public void CertificateFileIsNotACertificate()
    {
        var path = _dir.Write("junk.crt", "this is not a certificate\n");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(path, path));
        AssertClean(e, path);
        Assert.Contains("not a certificate", e.Message);
        Assert.Equal("CertFile", e.Setting);
    }

    [Fact]
    public void SwappedCertificateAndKey()
    {
        var (cert, key) = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(key, cert));
        AssertClean(e, key, Slices(key));
        Assert.Contains("holds no PEM certificate", e.Message);
        Assert.Contains("swapped", e.Message);
    }

    [Fact]
    public void KeyFileHoldsNoKey()
    {
        var (cert, _) = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        var key = _dir.Write("nokey.key", "hello\n");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key));
        AssertClean(e, key);
        Assert.Contains("holds no PEM private key", e.Message);
        Assert.Equal("PrivateKey", e.Setting);
    }

    [Fact]
    public void KeyUnreadable()
    {
        var (cert, _) = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        var key = _dir.Write("bad.key", "-----BEGIN PRIVATE KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n-----END PRIVATE KEY-----\n");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key));
        AssertClean(e, key, "QUJDREVGR0hJSktM");
        Assert.Contains("cannot be read as a key", e.Message);
    }

    [Fact]
    public void EncryptedKeyWithoutPassword()
    {
        var (cert, key) = Write(_pki.Ec.Client, DxlTestKeyFormat.EncryptedPkcs8, "pw123");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key));
        AssertClean(e, key, Slices(key));
        Assert.Contains("the private key is encrypted; supply its password", e.Message);
    }

    [Fact]
    public void EncryptedKeyWithWrongPassword()
    {
        var (cert, key) = Write(_pki.Rsa.Client, DxlTestKeyFormat.EncryptedPkcs8, "Xyzzy-Right");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key, "Xyzzy-Wrong"));
        AssertClean(e, key, Slices(key).Append("Xyzzy").ToArray());
        Assert.Contains("password is wrong", e.Message);
    }

    [Fact]
    public void LegacyOpenSslEncryptedKey()
    {
        var (cert, _) = Write(_pki.Rsa.Client, DxlTestKeyFormat.Pkcs8);
        var key = _dir.Write("legacy.key",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n-----END RSA PRIVATE KEY-----\n");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key, "pw"));
        AssertClean(e, key, "QUJDREVGR0hJSktM");
        Assert.Contains("legacy OpenSSL PEM encryption", e.Message);
    }

    [Fact]
    public void KeyOfAnotherCertificate()
    {
        var (cert, _) = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        using var other = _pki.Ec.IssueClient("other-client");
        var (_, otherKey) = Write(other, DxlTestKeyFormat.Pkcs8);
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, otherKey));
        AssertClean(e, otherKey, Slices(otherKey));
        Assert.Contains("does not match the certificate", e.Message);
    }

    [Theory]
    [InlineData(DxlTestKeyFormat.Pkcs8)]
    [InlineData(DxlTestKeyFormat.Sec1Ec)]
    [InlineData(DxlTestKeyFormat.EncryptedPkcs8)]
    public void EcKeyForAnRsaCertificate(DxlTestKeyFormat format)
    {
        var (cert, _) = Write(_pki.Rsa.Client, DxlTestKeyFormat.Pkcs8);
        var (_, ecKey) = Write(_pki.Ec.Client, format, "pw");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, ecKey, "pw"));
        AssertClean(e, ecKey, Slices(ecKey));
        Assert.Contains("does not match the certificate", e.Message);
        Assert.Contains("RSA", e.Message);
    }

    [Fact]
    public void RsaKeyForAnEcCertificate()
    {
        var (cert, _) = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        var (_, rsaKey) = Write(_pki.Rsa.Client, DxlTestKeyFormat.Pkcs1Rsa);
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, rsaKey));
        AssertClean(e, rsaKey, Slices(rsaKey));
        Assert.Contains("does not match the certificate", e.Message);
    }

    [Fact]
    public void ExpiredCertificate()
    {
        using var c = _pki.Ec.IssueClient("expired", DxlTestValidity.Expired);
        var (cert, key) = Write(c, DxlTestKeyFormat.Pkcs8);
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key));
        AssertClean(e, cert);
        Assert.Contains($"expired on {c.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC", e.Message);
    }

    [Fact]
    public void NotYetValidCertificate()
    {
        using var c = _pki.Ec.IssueClient("future", DxlTestValidity.NotYetValid);
        var (cert, key) = Write(c, DxlTestKeyFormat.Pkcs8);
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, key));
        AssertClean(e, cert);
        Assert.Contains($"is not valid until {c.Certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC", e.Message);
    }

    [Fact]
    public void Pkcs12WithoutPrivateKey()
    {
        using var publicOnly = _pki.Ec.Client.PublicOnly();
        var pfx = _dir.Combine("nokey.pfx");
        File.WriteAllBytes(pfx, publicOnly.Export(X509ContentType.Pkcs12, "pw"));
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(pfx, null, "pw"));
        AssertClean(e, pfx);
        Assert.Contains("holds no private key", e.Message);
    }

    [Fact]
    public void Pkcs12WrongPassword()
    {
        var pfx = _dir.Combine("client.pfx");
        _pki.Ec.Client.WritePrivateKey(pfx, DxlTestKeyFormat.Pkcs12, "Xyzzy-Right");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(pfx, null, "Xyzzy-Wrong"));
        AssertClean(e, pfx, "Xyzzy");
        Assert.Contains("password is wrong", e.Message);
    }

    [Fact]
    public void Pkcs12NeedsAPassword()
    {
        var pfx = _dir.Combine("client.pfx");
        _pki.Ec.Client.WritePrivateKey(pfx, DxlTestKeyFormat.Pkcs12, "Xyzzy-Right");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(pfx, null));
        AssertClean(e, pfx, "Xyzzy");
        Assert.Contains("supply its password", e.Message);
    }

    [Fact]
    public void Pkcs12GivenAsTheKeyFile()
    {
        var (cert, _) = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        var pfx = _dir.Combine("client.pfx");
        _pki.Ec.Client.WritePrivateKey(pfx, DxlTestKeyFormat.Pkcs12, "pw");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadClientCertificate(cert, pfx, "pw"));
        AssertClean(e, pfx);
        Assert.Contains("PKCS#12", e.Message);
    }

    [Fact]
    public void FailureMessagesAreDistinct()
    {
        var messages = new List<string>();
        void Capture(Action a) => messages.Add(StripPaths(Assert.Throws<DxlConfigException>(a).Message));
        string StripPaths(string m) => m.Replace(_dir.Path, "");

        var good = Write(_pki.Ec.Client, DxlTestKeyFormat.Pkcs8);
        var enc = Write(_pki.Ec.Client, DxlTestKeyFormat.EncryptedPkcs8, "pw");
        using var expired = _pki.Ec.IssueClient("x", DxlTestValidity.Expired);
        using var future = _pki.Ec.IssueClient("y", DxlTestValidity.NotYetValid);
        using var other = _pki.Ec.IssueClient("z");
        var exp = Write(expired, DxlTestKeyFormat.Pkcs8);
        var fut = Write(future, DxlTestKeyFormat.Pkcs8);
        var oth = Write(other, DxlTestKeyFormat.Pkcs8);
        var pfx = _dir.Combine("p.pfx");
        _pki.Ec.Client.WritePrivateKey(pfx, DxlTestKeyFormat.Pkcs12, "pw");
        var nokeyPfx = _dir.Combine("n.pfx");
        File.WriteAllBytes(nokeyPfx, _pki.Ec.Client.PublicOnly().Export(X509ContentType.Pkcs12));
        var junk = _dir.Write("junk.txt", "junk");

        Capture(() => DxlCertificates.LoadClientCertificate(_dir.Combine("none"), good.Key));
        Capture(() => DxlCertificates.LoadClientCertificate(junk, good.Key));
        Capture(() => DxlCertificates.LoadClientCertificate(good.Cert, junk));
        Capture(() => DxlCertificates.LoadClientCertificate(enc.Cert, enc.Key));
        Capture(() => DxlCertificates.LoadClientCertificate(enc.Cert, enc.Key, "nope"));
        Capture(() => DxlCertificates.LoadClientCertificate(good.Cert, oth.Key));
        Capture(() => DxlCertificates.LoadClientCertificate(exp.Cert, exp.Key));
        Capture(() => DxlCertificates.LoadClientCertificate(fut.Cert, fut.Key));
        Capture(() => DxlCertificates.LoadClientCertificate(nokeyPfx, null));
        Capture(() => DxlCertificates.LoadClientCertificate(pfx, null, "nope"));
        Capture(() => DxlCertificates.LoadClientCertificate(pfx, null));

        var reasons = messages.Select(m => System.Text.RegularExpressions.Regex.Replace(m, "^[^:]*(:\\d+)?, setting '[^']*': |^[^:]*: ", "")).ToList();
        Assert.All(reasons, r => Assert.StartsWith("the ", r));
        Assert.Equal(reasons.Count, reasons.Distinct().Count());
    }

    // ---- CA bundles ---------------------------------------------------------------------------------------

    [Fact]
    public void LoadsEveryCertificateOfABundle()
    {
        var path = _dir.Write("bundle.crt", "# comment text outside blocks\n" + _pki.Ec.Ca.CertificatePem() + "\n" + _pki.Rsa.Ca.CertificatePem() + _pki.Other.Ca.CertificatePem());
        var bundle = DxlCertificates.LoadCaBundle(path);
        Assert.Equal(3, bundle.Count);
        Assert.Equal(_pki.Ec.Ca.Certificate.Thumbprint, bundle[0].Thumbprint);
        Assert.Equal(_pki.Other.Ca.Certificate.Thumbprint, bundle[2].Thumbprint);
        Assert.All(bundle.Cast<X509Certificate2>(), c => Assert.False(c.HasPrivateKey));
    }

    [Fact]
    public void LoadsADerCaCertificate()
    {
        var path = _dir.Combine("ca.der");
        File.WriteAllBytes(path, _pki.Ec.Ca.Certificate.RawData);
        Assert.Single(DxlCertificates.LoadCaBundle(path));
    }

    [Fact]
    public void BundleWithoutCertificates()
    {
        var path = _dir.Write("empty.crt", _pki.Ec.Client.PrivateKeyPem());
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadCaBundle(path));
        AssertClean(e, path, Slices(path));
        Assert.Contains("holds no certificate", e.Message);
    }

    [Fact]
    public void BundleMissing()
    {
        var path = _dir.Combine("none.crt");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadCaBundle(path));
        AssertClean(e, path);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void BundleWithADamagedCertificate()
    {
        var path = _dir.Write("bad.crt", _pki.Ec.Ca.CertificatePem() + "-----BEGIN CERTIFICATE-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n-----END CERTIFICATE-----\n");
        var e = Assert.Throws<DxlConfigException>(() => DxlCertificates.LoadCaBundle(path));
        AssertClean(e, path);
        Assert.Contains("certificate #2", e.Message);
    }
}

public class DxlCertificatesLineEndingTests : IClassFixture<TestPkiFixture>, IDisposable
{
    private readonly TestPkiFixture _pki;
    private readonly TempFolder _dir = new();

    public DxlCertificatesLineEndingTests(TestPkiFixture pki) => _pki = pki;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WindowsLineEndingsInCertificateKeyBundleAndConfig()
    {
        static string Crlf(string s) => s.Replace("\r\n", "\n").Replace("\n", "\r\n");
        var client = _pki.Rsa.Client;
        _dir.Write("ca.crt", Crlf(_pki.Rsa.Ca.CertificatePem()));
        _dir.Write("client.crt", Crlf(client.CertificatePem()));
        _dir.Write("client.key", Crlf(client.PrivateKeyPem(DxlTestKeyFormat.Pkcs1Rsa)));
        var config = TieDxl.Dxl.Config.DxlClientConfig.Load(_dir.Write("dxlclient.config",
            Crlf("[Certs]\nBrokerCertChain=ca.crt\nCertFile=client.crt\nPrivateKey=client.key\n[Brokers]\nb=b;8883;host # c\n")));
        Assert.Equal("host", config.Brokers[0].Host);
        Assert.Equal(client.Certificate.Thumbprint, config.GetClientCertificate().Thumbprint);
        Assert.Single(config.GetBrokerCaCertificates());
    }
}
