using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl.Tls;
using TieDxl.Fabric.Pki;

namespace TieDxl.Tests.Tls;

public class DxlServerCertificateValidatorTests : IClassFixture<TestPkiFixture>
{
    private readonly TestPkiFixture _pki;

    public DxlServerCertificateValidatorTests(TestPkiFixture pki) => _pki = pki;

    private static string? Check(DxlTestPki trusted, X509Certificate2 broker, string host = "localhost", bool strict = false,
        SslPolicyErrors errors = SslPolicyErrors.None, X509Chain? presented = null) =>
        new DxlServerCertificateValidator(trusted.CaCertificates, strict).Check(broker, presented, host, errors);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrustedChainIsAccepted(bool strict)
    {
        Assert.Null(Check(_pki.Ec, _pki.Ec.Broker.Certificate, "localhost", strict));
        Assert.Null(Check(_pki.Rsa, _pki.Rsa.Broker.Certificate, "127.0.0.1", strict));
        Assert.Null(Check(_pki.Ec, _pki.Ec.Broker.Certificate, "::1", strict));
        Assert.Null(Check(_pki.Ec, _pki.Ec.Broker.Certificate, "[::1]", strict));
    }

    [Fact]
    public void PolicyErrorsFromTheSystemStoreDoNotMatter()
    {
        // SslStream reports chain errors against the OS store; the validator rebuilds against the bundle.
        Assert.Null(Check(_pki.Ec, _pki.Ec.Broker.Certificate, errors: SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch, host: "other"));
    }

    [Fact]
    public void UnknownCaIsRefused()
    {
        var reason = Check(_pki.Other, _pki.Ec.Broker.Certificate);
        Assert.NotNull(reason);
        Assert.Contains("the broker's certificate (subject CN=localhost, O=TieDxl Test, issuer CN=Fixture EC CA, O=TieDxl Test) is not signed by a CA in the configured bundle", reason);
        Assert.Contains("CN=Unknown CA", reason);
    }

    [Fact]
    public void UnknownCaIsRefusedEvenWhenThePresentedChainHasItsCa()
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.ExtraStore.Add(_pki.Ec.Ca.PublicOnly());
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_pki.Ec.Ca.PublicOnly());
        Assert.True(chain.Build(_pki.Ec.Broker.Certificate));
        Assert.Contains("not signed by a CA in the configured bundle", Check(_pki.Other, _pki.Ec.Broker.Certificate, presented: chain));
    }

    [Fact]
    public void SourceOfTheBundleIsNamed()
    {
        var v = new DxlServerCertificateValidator(_pki.Other.CaCertificates, false) { TrustedRootsSource = "/etc/dxl/ca-broker.crt" };
        Assert.Contains("configured bundle /etc/dxl/ca-broker.crt <CN=Unknown CA, O=TieDxl Test>", v.Check(_pki.Ec.Broker.Certificate, null, "localhost", SslPolicyErrors.None));
    }

    [Fact]
    public void ExpiredBrokerCertificateIsRefused()
    {
        using var expired = _pki.Ec.IssueBroker(validity: DxlTestValidity.Expired);
        var reason = Check(_pki.Ec, expired.Certificate);
        Assert.Equal($"the broker's certificate expired on {expired.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC", reason);
    }

    [Fact]
    public void NotYetValidBrokerCertificateIsRefused()
    {
        using var future = _pki.Ec.IssueBroker(validity: DxlTestValidity.NotYetValid);
        var reason = Check(_pki.Ec, future.Certificate);
        Assert.Equal($"the broker's certificate is not yet valid until {future.Certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC", reason);
    }

    [Fact]
    public void ExpiredCertificateFromAnUnknownCaGivesBothReasons()
    {
        using var expired = _pki.Ec.IssueBroker(validity: DxlTestValidity.Expired);
        var reason = Check(_pki.Other, expired.Certificate);
        Assert.Contains("not signed by a CA in the configured bundle", reason);
        Assert.Contains("expired on", reason);
    }

    [Fact]
    public void NameMismatchIsAcceptedByDefault()
    {
        Assert.Null(Check(_pki.Ec, _pki.Ec.Broker.Certificate, "broker.example.com", errors: SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.Null(Check(_pki.Ec, _pki.Ec.Broker.Certificate, "10.9.8.7"));
    }

    [Fact]
    public void NameMismatchIsRefusedWhenStrict()
    {
        var reason = Check(_pki.Ec, _pki.Ec.Broker.Certificate, "broker.example.com", strict: true);
        Assert.Equal("the broker's certificate does not match host name broker.example.com (it names localhost, 127.0.0.1, ::1)", reason);
    }

    [Fact]
    public void StrictCheckUsesTheCommonNameWhenThereIsNoSan()
    {
        using var cnOnly = _pki.Ec.IssueBroker("dxl-broker.example.org", Array.Empty<string>(), Array.Empty<System.Net.IPAddress>());
        Assert.Null(Check(_pki.Ec, cnOnly.Certificate, "dxl-broker.example.org", strict: true));
        Assert.Contains("(it names CN=dxl-broker.example.org)", Check(_pki.Ec, cnOnly.Certificate, "127.0.0.1", strict: true));
    }

    [Fact]
    public void WrongCaIsRefusedEvenWhenNotStrict()
    {
        var reason = Check(_pki.Rsa, _pki.Ec.Broker.Certificate, "anything", strict: false, errors: SslPolicyErrors.RemoteCertificateNameMismatch);
        Assert.NotNull(reason);
        Assert.Contains("not signed by a CA in the configured bundle", reason);
        Assert.DoesNotContain("host name", reason);
    }

    [Fact]
    public void CertificateSignedByAnImpostorWithTheSameCaNameIsRefused()
    {
        using var impostor = DxlTestPki.Create(DxlTestKeyAlgorithm.EcdsaP256, "Fixture EC CA");
        var reason = Check(_pki.Ec, impostor.Broker.Certificate);
        Assert.NotNull(reason);
    }

    [Fact]
    public void IntermediatesFromThePresentedChainAreUsed()
    {
        // Root -> intermediate -> broker, built by hand: the bundle holds the root only.
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var interKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;

        var rootReq = new CertificateRequest("CN=Root", rootKey, HashAlgorithmName.SHA256);
        rootReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        rootReq.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootReq.PublicKey, false));
        using var root = rootReq.CreateSelfSigned(now.AddDays(-10), now.AddDays(100));

        var interReq = new CertificateRequest("CN=Intermediate", interKey, HashAlgorithmName.SHA256);
        interReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        interReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        interReq.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(interReq.PublicKey, false));
        interReq.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        using var interPublic = interReq.Create(root, now.AddDays(-5), now.AddDays(50), new byte[] { 2 });
        using var inter = interPublic.CopyWithPrivateKey(interKey);

        var leafReq = new CertificateRequest("CN=localhost", leafKey, HashAlgorithmName.SHA256);
        leafReq.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(inter, true, false));
        using var leaf = leafReq.Create(inter, now.AddDays(-1), now.AddDays(10), new byte[] { 3 });

        var roots = new X509Certificate2Collection { X509CertificateLoader.LoadCertificate(root.RawData) };
        var validator = new DxlServerCertificateValidator(roots, false);

        Assert.Contains("not signed by a CA in the configured bundle", validator.Check(leaf, null, "localhost", SslPolicyErrors.None));

        using var presented = new X509Chain();
        presented.ChainPolicy.ExtraStore.Add(X509CertificateLoader.LoadCertificate(interPublic.RawData));
        presented.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        presented.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(root.RawData));
        presented.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(presented.Build(leaf));
        Assert.Null(validator.Check(leaf, presented, "localhost", SslPolicyErrors.None));
    }

    [Fact]
    public void EmptyBundleRefusesEverything()
    {
        var v = new DxlServerCertificateValidator(new X509Certificate2Collection(), false);
        Assert.Contains("no CA certificate is configured", v.Check(_pki.Ec.Broker.Certificate, null, "localhost", SslPolicyErrors.None));
    }

    [Fact]
    public void NoCertificateFromTheBroker()
    {
        var v = new DxlServerCertificateValidator(_pki.Ec.CaCertificates, false);
        Assert.Equal("the broker sent no certificate", v.Check(_pki.Ec.Broker.Certificate, null, "localhost", SslPolicyErrors.RemoteCertificateNotAvailable));
    }
}
