using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl.Provisioning;
using TieDxl.Tests.Config;

namespace TieDxl.Tests.Provisioning;

/// <summary>The key and CSR as ePO's provisioning command takes them.</summary>
public sealed class DxlCertificateRequestTests
{
    private static CertificateRequest Decode(DxlCertificateRequest request) =>
        CertificateRequest.LoadSigningRequestPem(request.CsrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);

    [Fact]
    public void TheRequestIsRsa2048SignedWithSha256AndAsksForAClientCertificate()
    {
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "client1" });

        var decoded = Decode(request);

        Assert.StartsWith("-----BEGIN CERTIFICATE REQUEST-----\n", request.CsrPem);
        Assert.EndsWith("-----END CERTIFICATE REQUEST-----\n", request.CsrPem);
        Assert.Equal("CN=client1", decoded.SubjectName.Name);
        using var rsa = decoded.PublicKey.GetRSAPublicKey();
        Assert.Equal(2048, rsa!.KeySize);
        var basic = decoded.CertificateExtensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.False(basic.CertificateAuthority);
        var usage = decoded.CertificateExtensions.OfType<X509KeyUsageExtension>().Single();
        Assert.True(usage.Critical);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, usage.KeyUsages);
        Assert.Equal("1.3.6.1.5.5.7.3.2", decoded.CertificateExtensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages[0].Value);
        Assert.DoesNotContain(decoded.CertificateExtensions, e => e.Oid?.Value == "2.5.29.17");
        // SHA-256 with RSA PKCS#1 v1.5: the signature algorithm OID inside the DER.
        var der = PemEncoding.Find(request.CsrPem);
        var bytes = Convert.FromBase64String(request.CsrPem[der.Base64Data]);
        Assert.True(bytes.AsSpan().IndexOf(new byte[] { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B }) > 0);
    }

    [Fact]
    public void TheFullSubjectIsEncodedCountryFirstAndSansAreDnsNames()
    {
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject
        {
            CommonName = "myclient", Country = "US", StateOrProvince = "OR", Locality = "Hillsboro", Organization = "McAfee",
            OrganizationalUnit = "DXL Team", Email = "dxl@example.test", DnsNames = new[] { "host1.com", "host2.com" },
        });

        var decoded = Decode(request);

        var encodedOrder = decoded.SubjectName.EnumerateRelativeDistinguishedNames(reversed: false).Select(r => r.GetSingleElementType().Value).ToArray();
        Assert.Equal(new[] { "2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.10", "2.5.4.11", "2.5.4.3", "1.2.840.113549.1.9.1" }, encodedOrder);
        var san = new X509SubjectAlternativeNameExtension(decoded.CertificateExtensions.Single(e => e.Oid?.Value == "2.5.29.17").RawData);
        Assert.Equal(new[] { "host1.com", "host2.com" }, san.EnumerateDnsNames());
    }

    [Fact]
    public void TheKeyFileIsOwnerOnlyAndAnExistingOneIsKeptUnlessForced()
    {
        using var folder = new TempFolder();
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "files" });

        var (csrPath, keyPath) = request.Write(folder.Path, "client", default, force: false);

        Assert.Equal(request.CsrPem, File.ReadAllText(csrPath));
        using (var key = RSA.Create())
        {
            key.ImportFromPem(File.ReadAllText(keyPath));
            Assert.Equal(request.PublicKeyInfo, key.ExportSubjectPublicKeyInfo());
        }
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        var before = File.ReadAllBytes(keyPath);
        using var second = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = "files" });
        var refused = Assert.Throws<DxlProvisioningException>(() => second.Write(folder.Path, "client", default, force: false));
        Assert.Contains("nothing was written", refused.Message);
        Assert.Equal(before, File.ReadAllBytes(keyPath));
        second.Write(folder.Path, "client", "pw".AsSpan(), force: true);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", File.ReadAllText(keyPath));
    }

    [Fact]
    public void ABroughtCsrMustBeAValidRequest()
    {
        using var folder = new TempFolder();
        var path = folder.Write("bad.csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");

        var e = Assert.Throws<DxlProvisioningException>(() => DxlCertificateRequest.Load(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("not a valid PEM certificate request", e.Message);
        Assert.Throws<DxlProvisioningException>(() => DxlCertificateRequest.Load(folder.Combine("missing.csr")));
    }
}
