using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TieDxl.Fabric.Pki;

/// <summary>Key algorithm of a throwaway certificate. ECDSA P-256 is fast; RSA 2048 is what the Python client's
/// fixed cipher (AES128-SHA256, RSA key exchange) needs on the broker side.</summary>
public enum DxlTestKeyAlgorithm
{
    EcdsaP256,
    Rsa2048,
}

/// <summary>How a private key is written to a file.</summary>
public enum DxlTestKeyFormat
{
    /// <summary>PEM 'PRIVATE KEY' (unencrypted PKCS#8).</summary>
    Pkcs8,
    /// <summary>PEM 'RSA PRIVATE KEY' (RSA keys only).</summary>
    Pkcs1Rsa,
    /// <summary>PEM 'EC PRIVATE KEY' (EC keys only).</summary>
    Sec1Ec,
    /// <summary>PEM 'ENCRYPTED PRIVATE KEY' (PBES2, AES-256-CBC); needs a password.</summary>
    EncryptedPkcs8,
    /// <summary>A PKCS#12 (.pfx) file holding certificate and key.</summary>
    Pkcs12,
}

/// <summary>When a throwaway certificate is valid.</summary>
public enum DxlTestValidity
{
    /// <summary>From a day ago to a year ahead.</summary>
    Valid,
    /// <summary>From 60 days ago to yesterday.</summary>
    Expired,
    /// <summary>From tomorrow to 60 days ahead.</summary>
    NotYetValid,
}

/// <summary>A throwaway certificate with its private key.</summary>
public sealed class DxlTestCertificate : IDisposable
{
    private readonly AsymmetricAlgorithm _key;

    internal DxlTestCertificate(X509Certificate2 withKey, AsymmetricAlgorithm key)
    {
        _key = key;
        Certificate = withKey;
    }

    /// <summary>The certificate with its private key, usable in-process by SslStream/MQTTnet (re-imported through
    /// PKCS#12 on Windows so SChannel accepts it).</summary>
    public X509Certificate2 Certificate { get; }

    internal AsymmetricAlgorithm Key => _key;

    public DxlTestKeyAlgorithm Algorithm => _key is RSA ? DxlTestKeyAlgorithm.Rsa2048 : DxlTestKeyAlgorithm.EcdsaP256;

    /// <summary>The certificate alone (no private key).</summary>
    public X509Certificate2 PublicOnly() => new(Certificate.RawData);

    public string CertificatePem() => PemEncoding.WriteString("CERTIFICATE", Certificate.RawData) + "\n";

    /// <summary>The private key as PEM. <see cref="DxlTestKeyFormat.Pkcs12"/> is not PEM: use <see cref="ExportPkcs12"/>.</summary>
    public string PrivateKeyPem(DxlTestKeyFormat format = DxlTestKeyFormat.Pkcs8, string? password = null)
    {
        var pem = format switch
        {
            DxlTestKeyFormat.Pkcs8 => _key.ExportPkcs8PrivateKeyPem(),
            DxlTestKeyFormat.Pkcs1Rsa => _key is RSA rsa
                ? rsa.ExportRSAPrivateKeyPem()
                : throw new InvalidOperationException("PKCS#1 is an RSA key format; this key is EC"),
            DxlTestKeyFormat.Sec1Ec => _key is ECDsa ec
                ? ec.ExportECPrivateKeyPem()
                : throw new InvalidOperationException("SEC1 is an EC key format; this key is RSA"),
            DxlTestKeyFormat.EncryptedPkcs8 => _key.ExportEncryptedPkcs8PrivateKeyPem(
                (password is { Length: > 0 } ? password : throw new ArgumentException("an encrypted key needs a password", nameof(password))).AsSpan(),
                new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000)),
            DxlTestKeyFormat.Pkcs12 => throw new ArgumentException("PKCS#12 is not a PEM format; use ExportPkcs12", nameof(format)),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        return pem + "\n";
    }

    /// <summary>Certificate and key as PKCS#12 bytes.</summary>
    public byte[] ExportPkcs12(string? password = null) => Certificate.Export(X509ContentType.Pkcs12, password);

    /// <summary>Writes the certificate as PEM.</summary>
    public void WriteCertificate(string path) => File.WriteAllText(path, CertificatePem(), Encoding.ASCII);

    /// <summary>Writes the private key (PEM, or PKCS#12 with the certificate) with mode 0600 on Unix.</summary>
    public void WritePrivateKey(string path, DxlTestKeyFormat format = DxlTestKeyFormat.Pkcs8, string? password = null)
    {
        var bytes = format == DxlTestKeyFormat.Pkcs12 ? ExportPkcs12(password) : Encoding.ASCII.GetBytes(PrivateKeyPem(format, password));
        DxlTestPki.WriteSecret(path, bytes);
    }

    public override string ToString() => $"{Certificate.Subject} (issuer {Certificate.Issuer}, {Algorithm}, until {Certificate.NotAfter:u})";

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }
}

/// <summary>Where <see cref="DxlTestPki.WriteClientFiles"/> put things. All paths are absolute.</summary>
public sealed record DxlTestPkiFiles(
    string Folder,
    string ConfigPath,
    string CaPath,
    string ClientCertPath,
    string ClientKeyPath,
    string BrokerCertPath,
    string BrokerKeyPath);

/// <summary>Options for <see cref="DxlTestPki.WriteClientFiles"/>.</summary>
public sealed record DxlTestConfigOptions
{
    /// <summary>MQTT broker port for the [Brokers] line; null writes no [Brokers] entry.</summary>
    public int? Port { get; init; } = 8883;
    /// <summary>WebSocket broker port for a [BrokersWebSockets] line; null writes none.</summary>
    public int? WebSocketPort { get; init; }
    /// <summary>Host name field of the broker lines (the certificate names localhost, 127.0.0.1 and ::1).</summary>
    public string BrokerHost { get; init; } = "127.0.0.1";
    /// <summary>IP field of the broker lines; null leaves it out.</summary>
    public string? BrokerIp { get; init; } = "127.0.0.1";
    public string BrokerId { get; init; } = "local-broker";
    /// <summary>Written as [General] UseWebSockets when set.</summary>
    public bool? UseWebSockets { get; init; }
    /// <summary>Written as [General] ClientId when set.</summary>
    public string? ClientId { get; init; }
    /// <summary>The client certificate to write; null uses <see cref="DxlTestPki.Client"/>.</summary>
    public DxlTestCertificate? Client { get; init; }
    public DxlTestKeyFormat ClientKeyFormat { get; init; } = DxlTestKeyFormat.Pkcs8;
    /// <summary>Password for EncryptedPkcs8 / Pkcs12 key files.</summary>
    public string? KeyPassword { get; init; }
    /// <summary>Also write [Certs] PrivateKeyPassword (our client reads it; the Python client ignores it).</summary>
    public bool WritePasswordToConfig { get; init; }
}

/// <summary>
/// A throwaway PKI for tests and demos: a CA, a broker certificate (SAN localhost, 127.0.0.1, ::1; serverAuth) and
/// a client certificate (clientAuth), all signed by the CA, plus more on demand. Writes PEM files and a
/// dxlclient.config that our client and the OpenDXL Python client read unchanged.
/// </summary>
public sealed class DxlTestPki : IDisposable
{
    public const string CaFileName = "ca-broker.crt";
    public const string ClientCertFileName = "client.crt";
    public const string ClientKeyFileName = "client.key";
    public const string ClientPkcs12FileName = "client.pfx";
    public const string BrokerCertFileName = "broker.crt";
    public const string BrokerKeyFileName = "broker.key";
    public const string ConfigFileName = "dxlclient.config";

    private readonly List<DxlTestCertificate> _issued = new();
    private readonly Lazy<DxlTestCertificate> _broker;
    private readonly Lazy<DxlTestCertificate> _client;

    private DxlTestPki(DxlTestCertificate ca, DxlTestKeyAlgorithm algorithm)
    {
        Ca = ca;
        Algorithm = algorithm;
        _broker = new Lazy<DxlTestCertificate>(() => IssueBroker());
        _client = new Lazy<DxlTestCertificate>(() => IssueClient());
    }

    /// <summary>A new CA (valid from a year ago to ten years ahead) with the given key algorithm.</summary>
    public static DxlTestPki Create(DxlTestKeyAlgorithm algorithm = DxlTestKeyAlgorithm.EcdsaP256, string caName = "TieDxl Test CA")
    {
        var key = NewKey(algorithm);
        var request = NewRequest(new X500DistinguishedName($"CN={Escape(caName)}, O=TieDxl Test"), key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var cert = request.CreateSelfSigned(now.AddDays(-365), now.AddDays(3650));
        return new DxlTestPki(new DxlTestCertificate(ForPlatform(cert), key), algorithm);
    }

    /// <summary>The default key algorithm of certificates this CA issues.</summary>
    public DxlTestKeyAlgorithm Algorithm { get; }

    /// <summary>The CA certificate, with its private key.</summary>
    public DxlTestCertificate Ca { get; }

    /// <summary>The trust anchors to give a broker or client: the CA certificate without its key.</summary>
    public X509Certificate2Collection CaCertificates => new() { Ca.PublicOnly() };

    /// <summary>A broker certificate made on first use: CN=localhost, SAN localhost/127.0.0.1/::1, serverAuth.</summary>
    public DxlTestCertificate Broker => _broker.Value;

    /// <summary>A client certificate made on first use: CN=tiedxl-test-client, clientAuth.</summary>
    public DxlTestCertificate Client => _client.Value;

    /// <summary>A broker (TLS server) certificate. Default names: localhost, 127.0.0.1, ::1.</summary>
    public DxlTestCertificate IssueBroker(
        string commonName = "localhost",
        IEnumerable<string>? dnsNames = null,
        IEnumerable<IPAddress>? ipAddresses = null,
        DxlTestValidity validity = DxlTestValidity.Valid,
        DxlTestKeyAlgorithm? algorithm = null)
    {
        var san = new SubjectAlternativeNameBuilder();
        foreach (var d in dnsNames ?? new[] { "localhost" }) san.AddDnsName(d);
        foreach (var ip in ipAddresses ?? new[] { IPAddress.Loopback, IPAddress.IPv6Loopback }) san.AddIpAddress(ip);
        return Issue(commonName, "1.3.6.1.5.5.7.3.1", san, validity, algorithm ?? Algorithm);
    }

    /// <summary>A client (TLS client) certificate.</summary>
    public DxlTestCertificate IssueClient(
        string commonName = "tiedxl-test-client",
        DxlTestValidity validity = DxlTestValidity.Valid,
        DxlTestKeyAlgorithm? algorithm = null) =>
        Issue(commonName, "1.3.6.1.5.5.7.3.2", null, validity, algorithm ?? Algorithm);

    /// <summary>
    /// Writes ca-broker.crt, client.crt + client.key (or client.pfx), broker.crt + broker.key and dxlclient.config
    /// (relative file names in [Certs]) into <paramref name="folder"/>, creating it. Keys get mode 0600 on Unix.
    /// </summary>
    public DxlTestPkiFiles WriteClientFiles(string folder, DxlTestConfigOptions? options = null)
    {
        options ??= new DxlTestConfigOptions();
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        var client = options.Client ?? Client;

        var caPath = Path.Combine(folder, CaFileName);
        File.WriteAllText(caPath, Ca.CertificatePem(), Encoding.ASCII);

        string certName, keyName;
        if (options.ClientKeyFormat == DxlTestKeyFormat.Pkcs12)
        {
            certName = keyName = ClientPkcs12FileName;
            client.WritePrivateKey(Path.Combine(folder, certName), DxlTestKeyFormat.Pkcs12, options.KeyPassword);
        }
        else
        {
            certName = ClientCertFileName;
            keyName = ClientKeyFileName;
            client.WriteCertificate(Path.Combine(folder, certName));
            client.WritePrivateKey(Path.Combine(folder, keyName), options.ClientKeyFormat, options.KeyPassword);
        }

        var brokerCertPath = Path.Combine(folder, BrokerCertFileName);
        var brokerKeyPath = Path.Combine(folder, BrokerKeyFileName);
        Broker.WriteCertificate(brokerCertPath);
        Broker.WritePrivateKey(brokerKeyPath);

        var sb = new StringBuilder();
        sb.Append("# Throwaway configuration written by TieDxl.Fabric DxlTestPki. Not for production.\n");
        sb.Append("[General]\n");
        if (options.ClientId is not null) sb.Append("ClientId=").Append(options.ClientId).Append('\n');
        if (options.UseWebSockets is { } ws) sb.Append("UseWebSockets=").Append(ws ? "true" : "false").Append('\n');
        sb.Append('\n');
        sb.Append("[Certs]\n");
        sb.Append("BrokerCertChain=").Append(CaFileName).Append('\n');
        sb.Append("CertFile=").Append(certName).Append('\n');
        sb.Append("PrivateKey=").Append(keyName).Append('\n');
        if (options.WritePasswordToConfig && options.KeyPassword is not null)
            sb.Append("PrivateKeyPassword=").Append(options.KeyPassword).Append('\n');
        sb.Append('\n');
        sb.Append("[Brokers]\n");
        if (options.Port is { } port) sb.Append(BrokerLine(options, port)).Append('\n');
        sb.Append('\n');
        sb.Append("[BrokersWebSockets]\n");
        if (options.WebSocketPort is { } wsPort) sb.Append(BrokerLine(options, wsPort)).Append('\n');
        var configPath = Path.Combine(folder, ConfigFileName);
        File.WriteAllText(configPath, sb.ToString(), Encoding.ASCII);

        return new DxlTestPkiFiles(folder, configPath, caPath, Path.Combine(folder, certName), Path.Combine(folder, keyName), brokerCertPath, brokerKeyPath);
    }

    private static string BrokerLine(DxlTestConfigOptions o, int port) =>
        $"{o.BrokerId}={o.BrokerId};{port};{o.BrokerHost}" + (o.BrokerIp is null ? "" : $";{o.BrokerIp}");

    private DxlTestCertificate Issue(string commonName, string ekuOid, SubjectAlternativeNameBuilder? san, DxlTestValidity validity, DxlTestKeyAlgorithm algorithm)
    {
        var key = NewKey(algorithm);
        var request = NewRequest(new X500DistinguishedName($"CN={Escape(commonName)}, O=TieDxl Test"), key);
        AddLeafExtensions(request, key is RSA, ekuOid, san?.Build(false));
        using var signed = SignWithCa(request, validity);
        var withKey = key switch
        {
            RSA rsa => signed.CopyWithPrivateKey(rsa),
            ECDsa ec => signed.CopyWithPrivateKey(ec),
            _ => throw new InvalidOperationException(),
        };
        var result = new DxlTestCertificate(ForPlatform(withKey), key);
        lock (_issued) _issued.Add(result);
        return result;
    }

    /// <summary>
    /// Signs a client's certificate signing request as ePO's CA does: the requested subject and key, CA:FALSE,
    /// digitalSignature + keyEncipherment (RSA) or digitalSignature (EC), clientAuth, and the requested
    /// subjectAltName if any. The request's signature must have been checked by whoever loaded it.
    /// </summary>
    public X509Certificate2 SignClientRequest(CertificateRequest request, DxlTestValidity validity = DxlTestValidity.Valid)
    {
        var san = request.CertificateExtensions.FirstOrDefault(e => e.Oid?.Value == "2.5.29.17");
        request.CertificateExtensions.Clear();
        AddLeafExtensions(request, request.PublicKey.Oid.Value == "1.2.840.113549.1.1.1", "1.3.6.1.5.5.7.3.2", san);
        return SignWithCa(request, validity);
    }

    /// <summary>CA:FALSE, key usage for the key type (RSA also encrypts keys), the extended key usage, the SAN if any.</summary>
    private static void AddLeafExtensions(CertificateRequest request, bool rsa, string ekuOid, X509Extension? san)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var usage = rsa ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature;
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(ekuOid) }, false));
        if (san is not null) request.CertificateExtensions.Add(san);
    }

    /// <summary>Adds the key identifiers and signs with the CA key (whose type may differ from the request's).</summary>
    private X509Certificate2 SignWithCa(CertificateRequest request, DxlTestValidity validity)
    {
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Ca.Certificate, true, false));

        var now = DateTimeOffset.UtcNow;
        var (from, to) = validity switch
        {
            DxlTestValidity.Expired => (now.AddDays(-60), now.AddDays(-1)),
            DxlTestValidity.NotYetValid => (now.AddDays(1), now.AddDays(60)),
            _ => (now.AddDays(-1), now.AddDays(365)),
        };
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);

        var generator = Ca.Key switch
        {
            RSA caRsa => X509SignatureGenerator.CreateForRSA(caRsa, RSASignaturePadding.Pkcs1),
            ECDsa caEc => X509SignatureGenerator.CreateForECDsa(caEc),
            _ => throw new InvalidOperationException(),
        };
        return request.Create(Ca.Certificate.SubjectName, generator, from, to, serial);
    }

    private static AsymmetricAlgorithm NewKey(DxlTestKeyAlgorithm algorithm) => algorithm switch
    {
        DxlTestKeyAlgorithm.Rsa2048 => RSA.Create(2048),
        _ => ECDsa.Create(ECCurve.NamedCurves.nistP256),
    };

    private static CertificateRequest NewRequest(X500DistinguishedName subject, AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
        _ => throw new InvalidOperationException(),
    };

    private static string Escape(string value) =>
        value.IndexOfAny(new[] { ',', '+', '"', '\\', '<', '>', ';', '=' }) >= 0 ? "\"" + value.Replace("\"", "\\\"") + "\"" : value;

    /// <summary>On Windows an ephemeral key cannot be used by SChannel: re-import through PKCS#12.</summary>
    private static X509Certificate2 ForPlatform(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows()) return certificate;
        var pfx = certificate.Export(X509ContentType.Pkcs12);
        certificate.Dispose();
        return new X509Certificate2(pfx, (string?)null, X509KeyStorageFlags.UserKeySet | X509KeyStorageFlags.Exportable);
    }

    /// <summary>A key file only the current user may read (0600 on Unix, a current-user-only ACL on Windows), written atomically.</summary>
    internal static void WriteSecret(string path, byte[] bytes) =>
        Dxl.Provisioning.AtomicFiles.WriteAll([new Dxl.Provisioning.PlannedFile(path, bytes, OwnerOnly: true)]);

    public void Dispose()
    {
        lock (_issued)
        {
            foreach (var c in _issued) c.Dispose();
            _issued.Clear();
        }
        Ca.Dispose();
    }
}
