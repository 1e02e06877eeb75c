using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TieDxl.Dxl.Tls;

/// <summary>Loads client certificates and CA bundles. Errors name the file, never the key material.</summary>
public static class DxlCertificates
{
    /// <summary>
    /// A client certificate with its private key: PEM certificate + PEM key (PKCS#8, PKCS#1 RSA, SEC1 EC,
    /// encrypted PKCS#8 with <paramref name="password"/>), or a PKCS#12 file as <paramref name="certPath"/>
    /// with <paramref name="keyPath"/> null. Throws <see cref="DxlConfigException"/>.
    /// </summary>
    public static X509Certificate2 LoadClientCertificate(string certPath, string? keyPath, string? password = null) => throw new NotImplementedException();

    /// <summary>Every certificate in a PEM bundle. Throws <see cref="DxlConfigException"/> when none or unreadable.</summary>
    public static X509Certificate2Collection LoadCaBundle(string path) => throw new NotImplementedException();
}

/// <summary>
/// Validates a broker's certificate as the reference clients do: chain built against the configured CA bundle
/// only (custom root trust, no revocation fetch), host-name mismatch accepted unless strict.
/// </summary>
public sealed class DxlServerCertificateValidator
{
    public DxlServerCertificateValidator(X509Certificate2Collection trustedRoots, bool strictHostName)
    {
        TrustedRoots = trustedRoots;
        StrictHostName = strictHostName;
    }

    public X509Certificate2Collection TrustedRoots { get; }
    public bool StrictHostName { get; }

    /// <summary>Null when the broker is acceptable; otherwise a sentence saying why not.</summary>
    public string? Check(X509Certificate2 serverCertificate, X509Chain? presentedChain, string targetHost, SslPolicyErrors sslPolicyErrors) => throw new NotImplementedException();
}
