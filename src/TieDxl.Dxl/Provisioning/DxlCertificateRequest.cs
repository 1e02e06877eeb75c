using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TieDxl.Dxl.Provisioning;

/// <summary>The subject of a client certificate request: a common name plus the optional attributes the reference CLI accepts.</summary>
public sealed record DxlCertificateSubject
{
    public required string CommonName { get; init; }
    public string? Country { get; init; }
    public string? StateOrProvince { get; init; }
    public string? Locality { get; init; }
    public string? Organization { get; init; }
    public string? OrganizationalUnit { get; init; }
    public string? Email { get; init; }
    /// <summary>DNS names for subjectAltName; the extension is requested only when there are some.</summary>
    public IReadOnlyList<string> DnsNames { get; init; } = Array.Empty<string>();
}

/// <summary>
/// A certificate signing request as ePO's provisioning command takes it: RSA 2048, SHA-256 with PKCS#1 v1.5,
/// requesting basicConstraints CA:FALSE, keyUsage digitalSignature+keyEncipherment (critical), extendedKeyUsage
/// clientAuth and, when asked, DNS subjectAltNames. Holds the private key when it was generated here; a CSR read
/// from a file has none (the user keeps the key).
/// </summary>
public sealed class DxlCertificateRequest : IDisposable
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private readonly RSA? _key;

    private DxlCertificateRequest(string csrPem, string subject, byte[] publicKeyInfo, RSA? key) =>
        (CsrPem, Subject, PublicKeyInfo, _key) = (csrPem, subject, publicKeyInfo, key);

    /// <summary>The CSR in PEM, exactly as written to {prefix}.csr and sent to ePO.</summary>
    public string CsrPem { get; }

    public string Subject { get; }

    /// <summary>SubjectPublicKeyInfo (DER) of the request: the signed certificate must carry this key.</summary>
    public byte[] PublicKeyInfo { get; }

    public bool HasPrivateKey => _key is not null;

    /// <summary>A new RSA 2048 key and its CSR.</summary>
    public static DxlCertificateRequest Create(DxlCertificateSubject subject)
    {
        if (string.IsNullOrWhiteSpace(subject.CommonName)) throw new DxlProvisioningException("a certificate request needs a common name");
        var name = BuildName(subject);
        var key = RSA.Create(2048);
        try
        {
            var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(ClientAuthOid) }, false));
            if (subject.DnsNames.Count > 0)
            {
                var san = new SubjectAlternativeNameBuilder();
                foreach (var dns in subject.DnsNames) san.AddDnsName(dns.Trim());
                request.CertificateExtensions.Add(san.Build(false));
            }
            var pem = request.CreateSigningRequestPem() + "\n";
            return new DxlCertificateRequest(pem, name.Name, key.ExportSubjectPublicKeyInfo(), key);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new DxlProvisioningException($"the certificate request cannot be made: {e.Message}", e);
        }
    }

    /// <summary>A CSR the user brings (PEM). Its signature is checked; no key comes with it.</summary>
    public static DxlCertificateRequest Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new DxlProvisioningException($"{full}: the certificate request file does not exist");
        string pem;
        try { pem = File.ReadAllText(full, Encoding.ASCII); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DxlProvisioningException($"{full}: the certificate request file cannot be read ({e.Message})", e);
        }
        try
        {
            var request = CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
            return new DxlCertificateRequest(pem, request.SubjectName.Name, request.PublicKey.ExportSubjectPublicKeyInfo(), null);
        }
        catch (CryptographicException e)
        {
            throw new DxlProvisioningException($"{full}: the file is not a valid PEM certificate request ('CERTIFICATE REQUEST') with a good signature", e);
        }
    }

    /// <summary>The private key as PKCS#8 PEM, encrypted (PBES2: PBKDF2-SHA256, AES-256-CBC) when a password is given.</summary>
    public byte[] ExportPrivateKeyPem(ReadOnlySpan<char> password = default)
    {
        if (_key is null) throw new DxlProvisioningException("this certificate request was read from a file and has no private key");
        var pem = password.IsEmpty
            ? _key.ExportPkcs8PrivateKeyPem()
            : _key.ExportEncryptedPkcs8PrivateKeyPem(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000));
        return Encoding.ASCII.GetBytes(pem + "\n");
    }

    /// <summary>True when <paramref name="certificate"/> carries this request's public key.</summary>
    public bool Matches(X509Certificate2 certificate) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(PublicKeyInfo);

    /// <summary>
    /// Writes {prefix}.csr and {prefix}.key (owner-only) into <paramref name="folder"/>; refuses to replace an
    /// existing key unless <paramref name="force"/>.
    /// </summary>
    public (string CsrPath, string KeyPath) Write(string folder, string prefix, ReadOnlySpan<char> password, bool force)
    {
        var csrPath = Path.GetFullPath(Path.Combine(folder, prefix + ".csr"));
        var keyPath = Path.GetFullPath(Path.Combine(folder, prefix + ".key"));
        if (!force)
            foreach (var existing in new[] { keyPath, csrPath }.Where(File.Exists))
                throw new DxlProvisioningException($"{existing} exists; nothing was written (force to replace it)");
        AtomicFiles.WriteAll(new[]
        {
            new PlannedFile(keyPath, ExportPrivateKeyPem(password), OwnerOnly: true),
            new PlannedFile(csrPath, Encoding.ASCII.GetBytes(CsrPem)),
        });
        return (csrPath, keyPath);
    }

    private static X500DistinguishedName BuildName(DxlCertificateSubject s)
    {
        // The builder's display order is the reverse of the order added: add the most specific first so the
        // subject reads "CN=…, OU=…, O=…, L=…, ST=…, C=…" and is encoded country first, as usual.
        var b = new X500DistinguishedNameBuilder();
        if (!string.IsNullOrWhiteSpace(s.Email)) b.AddEmailAddress(s.Email.Trim());
        b.AddCommonName(s.CommonName.Trim());
        if (!string.IsNullOrWhiteSpace(s.OrganizationalUnit)) b.AddOrganizationalUnitName(s.OrganizationalUnit.Trim());
        if (!string.IsNullOrWhiteSpace(s.Organization)) b.AddOrganizationName(s.Organization.Trim());
        if (!string.IsNullOrWhiteSpace(s.Locality)) b.AddLocalityName(s.Locality.Trim());
        if (!string.IsNullOrWhiteSpace(s.StateOrProvince)) b.AddStateOrProvinceName(s.StateOrProvince.Trim());
        if (!string.IsNullOrWhiteSpace(s.Country)) b.AddCountryOrRegion(s.Country.Trim());
        return b.Build();
    }

    public void Dispose() => _key?.Dispose();
}
