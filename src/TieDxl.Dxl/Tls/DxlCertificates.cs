using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TieDxl.Dxl.Tls;

/// <summary>Loads client certificates and CA bundles. Errors name the file, never the key material.</summary>
public static class DxlCertificates
{
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    /// <summary>
    /// A client certificate with its private key: PEM certificate + PEM key (PKCS#8, PKCS#1 RSA, SEC1 EC,
    /// encrypted PKCS#8 with <paramref name="password"/>), or a PKCS#12 file as <paramref name="certPath"/>
    /// with <paramref name="keyPath"/> null. Throws <see cref="DxlConfigException"/>.
    /// </summary>
    public static X509Certificate2 LoadClientCertificate(string certPath, string? keyPath, string? password = null)
    {
        if (string.IsNullOrWhiteSpace(certPath)) throw new DxlConfigException("no client certificate file was given", null, null, "CertFile");
        certPath = Path.GetFullPath(certPath);
        var certBytes = ReadFile(certPath, "certificate file");

        if (!LooksLikePem(certBytes) && IsPkcs12(certBytes))
        {
            // Imported from PKCS#12 the key is already usable by SChannel: no re-import on Windows.
            var fromPfx = LoadPkcs12(certPath, certBytes, password);
            try { CheckValidity(fromPfx, certPath); }
            catch { fromPfx.Dispose(); throw; }
            return fromPfx;
        }

        X509Certificate2 result;
        {
            var certificate = ReadSingleCertificate(certPath, certBytes);
            string keyFile;
            string keyText;
            if (keyPath is null || string.IsNullOrWhiteSpace(keyPath))
            {
                // A PEM file holding both the certificate and its key.
                keyFile = certPath;
                keyText = Encoding.ASCII.GetString(certBytes);
                if (!ContainsKeyBlock(keyText))
                    throw new DxlConfigException("the certificate file holds no private key and no key file is configured (set PrivateKey)", certPath, null, "PrivateKey");
            }
            else
            {
                keyFile = Path.GetFullPath(keyPath);
                var keyBytes = ReadFile(keyFile, "private key file");
                if (!LooksLikePem(keyBytes) && IsPkcs12(keyBytes))
                    throw new DxlConfigException("the private key file is PKCS#12; give the PKCS#12 file as the certificate (CertFile) instead", keyFile, null, "PrivateKey");
                keyText = Encoding.ASCII.GetString(keyBytes);
            }
            try { result = AttachKey(certificate, keyFile, keyText, password); }
            finally { certificate.Dispose(); }
        }

        try { CheckValidity(result, certPath); }
        catch { result.Dispose(); throw; }
        return ForPlatform(result);
    }

    /// <summary>Every certificate in a PEM bundle. Throws <see cref="DxlConfigException"/> when none or unreadable.</summary>
    public static X509Certificate2Collection LoadCaBundle(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DxlConfigException("no CA bundle file was given", null, null, "BrokerCertChain");
        path = Path.GetFullPath(path);
        var bytes = ReadFile(path, "CA bundle");
        var collection = new X509Certificate2Collection();
        if (LooksLikePem(bytes))
        {
            var text = Encoding.ASCII.GetString(bytes);
            var n = 0;
            foreach (var (label, der) in PemBlocks(text))
            {
                if (label != "CERTIFICATE") continue;
                n++;
                try { collection.Add(new X509Certificate2(der)); }
                catch (CryptographicException e)
                {
                    throw new DxlConfigException($"certificate #{n} in the CA bundle is not a valid certificate", path, null, null, e);
                }
            }
        }
        else
        {
            try { collection.Add(new X509Certificate2(bytes)); }
            catch (CryptographicException) { /* reported below */ }
        }
        if (collection.Count == 0)
            throw new DxlConfigException("the CA bundle holds no certificate (expected PEM 'CERTIFICATE' blocks)", path);
        return collection;
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private static byte[] ReadFile(string path, string what)
    {
        if (Directory.Exists(path)) throw new DxlConfigException($"the {what} is a folder, not a file", path);
        if (!File.Exists(path)) throw new DxlConfigException($"the {what} does not exist", path);
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DxlConfigException($"the {what} cannot be read ({e.GetType().Name})", path, null, null, e);
        }
    }

    private static bool LooksLikePem(byte[] bytes) =>
        Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 1 << 20)).Contains("-----BEGIN ", StringComparison.Ordinal);

    private static bool IsPkcs12(byte[] bytes)
    {
        if (bytes.Length < 4 || bytes[0] != 0x30) return false;
        try { return X509Certificate2.GetCertContentType(bytes) == X509ContentType.Pkcs12; }
        catch (CryptographicException) { return false; }
    }

    internal static IEnumerable<(string Label, byte[] Der)> PemBlocks(string text)
    {
        var offset = 0;
        while (offset < text.Length)
        {
            if (!PemEncoding.TryFind(text.AsSpan(offset), out var fields)) yield break;
            var label = text.AsSpan(offset)[fields.Label].ToString();
            var data = Convert.FromBase64String(text.AsSpan(offset)[fields.Base64Data].ToString());
            yield return (label, data);
            offset += fields.Location.End.Value;
        }
    }

    private static bool ContainsKeyBlock(string text) =>
        text.Contains("PRIVATE KEY-----", StringComparison.Ordinal);

    private static X509Certificate2 ReadSingleCertificate(string path, byte[] bytes)
    {
        if (LooksLikePem(bytes))
        {
            var text = Encoding.ASCII.GetString(bytes);
            foreach (var (label, der) in PemBlocks(text))
            {
                if (label != "CERTIFICATE") continue;
                try { return new X509Certificate2(der); }
                catch (CryptographicException e)
                {
                    throw new DxlConfigException("the certificate file holds a 'CERTIFICATE' block that is not a valid certificate", path, null, "CertFile", e);
                }
            }
            var hint = ContainsKeyBlock(text) ? " (it holds a private key: are CertFile and PrivateKey swapped?)" : "";
            throw new DxlConfigException($"the certificate file holds no PEM certificate{hint}", path, null, "CertFile");
        }
        try
        {
            if (X509Certificate2.GetCertContentType(bytes) == X509ContentType.Cert) return new X509Certificate2(bytes);
        }
        catch (CryptographicException) { /* reported below */ }
        throw new DxlConfigException("the certificate file is not a certificate (expected PEM, DER or PKCS#12)", path, null, "CertFile");
    }

    private static X509Certificate2 AttachKey(X509Certificate2 certificate, string keyFile, string keyText, string? password)
    {
        if (keyText.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
            throw new DxlConfigException(
                "the private key uses the legacy OpenSSL PEM encryption, which is not supported; convert it to encrypted PKCS#8 " +
                "('openssl pkcs8 -topk8') or store it unencrypted", keyFile, null, "PrivateKey");
        var (label, der) = FindKeyBlock(keyFile, keyText);
        var isRsa = CertificateKeyIsRsa(certificate, keyFile);
        var key = label == "ENCRYPTED PRIVATE KEY"
            ? ImportEncryptedKey(keyFile, der, password, isRsa)
            : ImportPlainKey(keyFile, label, der, isRsa);
        using (key)
        {
            try
            {
                return isRsa ? certificate.CopyWithPrivateKey((RSA)key) : certificate.CopyWithPrivateKey((ECDsa)key);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                throw new DxlConfigException(
                    $"the private key does not match the certificate (subject {certificate.Subject})", keyFile, null, "PrivateKey", e);
            }
        }
    }

    /// <summary>The first private-key PEM block of the key file, in any of the four forms OpenSSL writes.</summary>
    private static (string Label, byte[] Der) FindKeyBlock(string keyFile, string keyText)
    {
        try
        {
            foreach (var b in PemBlocks(keyText))
                if (b.Label is "PRIVATE KEY" or "RSA PRIVATE KEY" or "EC PRIVATE KEY" or "ENCRYPTED PRIVATE KEY") return b;
        }
        catch (FormatException e)
        {
            throw new DxlConfigException("the private key file is not valid PEM", keyFile, null, "PrivateKey", e);
        }
        var hint = keyText.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal) ? " (it holds a certificate: are CertFile and PrivateKey swapped?)" : "";
        throw new DxlConfigException(
            $"the private key file holds no PEM private key; expected 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY' or 'ENCRYPTED PRIVATE KEY'{hint}",
            keyFile, null, "PrivateKey");
    }

    /// <summary>True for an RSA certificate, false for EC; any other key algorithm is refused.</summary>
    private static bool CertificateKeyIsRsa(X509Certificate2 certificate, string keyFile)
    {
        var certAlgorithm = certificate.PublicKey.Oid.Value;
        if (certAlgorithm is not (RsaOid or EcOid))
            throw new DxlConfigException($"the certificate's key algorithm ({certificate.PublicKey.Oid.FriendlyName ?? certAlgorithm}) is not supported; use RSA or EC", keyFile, null, "CertFile");
        return certAlgorithm == RsaOid;
    }

    /// <summary>Decrypts an encrypted PKCS#8 key; a key of the other algorithm is named a mismatch rather than a wrong password.</summary>
    private static AsymmetricAlgorithm ImportEncryptedKey(string keyFile, byte[] der, string? password, bool isRsa)
    {
        if (string.IsNullOrEmpty(password))
            throw new DxlConfigException("the private key is encrypted; supply its password (PrivateKeyPassword)", keyFile, null, "PrivateKey");
        Action<AsymmetricAlgorithm> import = k => k.ImportEncryptedPkcs8PrivateKey(password.AsSpan(), der, out _);
        if (TryImport(isRsa, import) is { } key) return key;
        if (TryImport(!isRsa, import) is { } other)
        {
            other.Dispose();
            throw Mismatch(keyFile, isRsa);
        }
        throw new DxlConfigException("the private key cannot be decrypted: the password is wrong (or the file is damaged)", keyFile, null, "PrivateKey");
    }

    /// <summary>Reads an unencrypted key: PKCS#8, or the RSA / EC specific forms whose label names the algorithm.</summary>
    private static AsymmetricAlgorithm ImportPlainKey(string keyFile, string label, byte[] der, bool isRsa)
    {
        Action<AsymmetricAlgorithm> import = label switch
        {
            "RSA PRIVATE KEY" => k => ((RSA)k).ImportRSAPrivateKey(der, out _),
            "EC PRIVATE KEY" => k => ((ECDsa)k).ImportECPrivateKey(der, out _),
            _ => k => k.ImportPkcs8PrivateKey(der, out _),
        };
        var labelIsRsa = label switch { "RSA PRIVATE KEY" => true, "EC PRIVATE KEY" => false, _ => isRsa };
        if (labelIsRsa != isRsa) throw Mismatch(keyFile, isRsa);
        if (TryImport(isRsa, import) is { } key) return key;
        if (label == "PRIVATE KEY" && TryImport(!isRsa, import) is { } other)
        {
            other.Dispose();
            throw Mismatch(keyFile, isRsa);
        }
        throw new DxlConfigException($"the private key file holds a '{label}' block that cannot be read as a key", keyFile, null, "PrivateKey");
    }

    private static DxlConfigException Mismatch(string keyFile, bool certIsRsa) =>
        new($"the private key does not match the certificate: the certificate has an {(certIsRsa ? "RSA" : "EC")} key and this is an {(certIsRsa ? "EC" : "RSA")} key",
            keyFile, null, "PrivateKey");

    private static AsymmetricAlgorithm? TryImport(bool rsa, Action<AsymmetricAlgorithm> import)
    {
        AsymmetricAlgorithm key = rsa ? RSA.Create() : ECDsa.Create();
        try
        {
            import(key);
            return key;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or InvalidCastException)
        {
            key.Dispose();
            return null;
        }
    }

    private static X509Certificate2 LoadPkcs12(string path, byte[] bytes, string? password)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.Import(bytes, password, X509KeyStorageFlags.DefaultKeySet);
        }
        catch (CryptographicException first)
        {
            if (!string.IsNullOrEmpty(password))
                throw new DxlConfigException("the PKCS#12 file cannot be opened: the password is wrong (or the file is damaged)", path, null, "PrivateKeyPassword", first);
            try
            {
                collection.Import(bytes, "", X509KeyStorageFlags.DefaultKeySet);
            }
            catch (CryptographicException)
            {
                throw new DxlConfigException("the PKCS#12 file is protected by a password; supply its password (PrivateKeyPassword)", path, null, "PrivateKeyPassword", first);
            }
        }

        X509Certificate2? withKey = null;
        foreach (var c in collection)
        {
            if (withKey is null && c.HasPrivateKey) withKey = c;
            else c.Dispose();
        }
        if (withKey is null)
            throw new DxlConfigException("the PKCS#12 file holds no private key", path, null, "CertFile");
        return withKey;
    }

    private static void CheckValidity(X509Certificate2 certificate, string path)
    {
        var now = DateTime.Now;
        if (certificate.NotAfter < now)
            throw new DxlConfigException($"the client certificate (subject {certificate.Subject}) expired on {FormatDate(certificate.NotAfter)}", path, null, "CertFile");
        if (certificate.NotBefore > now)
            throw new DxlConfigException($"the client certificate (subject {certificate.Subject}) is not valid until {FormatDate(certificate.NotBefore)}", path, null, "CertFile");
    }

    internal static string FormatDate(DateTime local) =>
        local.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>On Windows SChannel cannot use an ephemeral key: re-import through PKCS#12 there.</summary>
    private static X509Certificate2 ForPlatform(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows()) return certificate;
        var pfx = certificate.Export(X509ContentType.Pkcs12);
        try
        {
            return new X509Certificate2(pfx, (string?)null, X509KeyStorageFlags.UserKeySet);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pfx);
            certificate.Dispose();
        }
    }
}
