using TieDxl.Dxl.Provisioning;

namespace TieDxl;

/// <summary>What New-DxlClientConfig wrote: the files, the certificate, the brokers, and the session when -Connect.</summary>
public sealed class DxlClientConfigInfo
{
    internal DxlClientConfigInfo(DxlClientConfigFiles files)
    {
        Folder = files.Folder;
        ConfigPath = files.ConfigPath;
        CaBundlePath = files.CaBundlePath;
        CertificatePath = files.CertificatePath;
        PrivateKeyPath = files.PrivateKeyPath;
        PrivateKeyWritten = files.PrivateKeyWritten;
        CertificateRequestPath = files.CertificateRequestPath;
        Subject = files.CertificateSubject;
        Issuer = files.CertificateIssuer;
        NotAfter = files.CertificateNotAfter;
        Brokers = files.Brokers.Select(b => b.ToString()).ToArray();
        WebSocketBrokers = files.WebSocketBrokers.Select(b => b.ToString()).ToArray();
    }

    public string Folder { get; }
    public string ConfigPath { get; }
    public string CaBundlePath { get; }
    public string CertificatePath { get; }
    public string PrivateKeyPath { get; }
    /// <summary>False when the user brought a CSR: the config names the key file, which the user supplies.</summary>
    public bool PrivateKeyWritten { get; }
    public string? CertificateRequestPath { get; }
    public string Subject { get; }
    public string Issuer { get; }
    public DateTime NotAfter { get; }
    public string[] Brokers { get; }
    public string[] WebSocketBrokers { get; }
    /// <summary>The connected session (with -Connect), else null.</summary>
    public DxlSession? Session { get; internal set; }
}
