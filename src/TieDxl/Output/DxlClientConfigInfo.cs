using TieDxl.Dxl.Provisioning;

namespace TieDxl;

/// <summary>What New-DxlClientConfig wrote: the files, the certificate, the brokers, and the session when -Connect.</summary>
public sealed class DxlClientConfigInfo
{
    // The files' own record, read through: the cmdlet adds only the session and the broker strings.
    private readonly DxlClientConfigFiles _files;

    internal DxlClientConfigInfo(DxlClientConfigFiles files)
    {
        _files = files;
        Brokers = files.Brokers.Select(b => b.ToString()).ToArray();
        WebSocketBrokers = files.WebSocketBrokers.Select(b => b.ToString()).ToArray();
    }

    public string Folder => _files.Folder;
    public string ConfigPath => _files.ConfigPath;
    public string CaBundlePath => _files.CaBundlePath;
    public string CertificatePath => _files.CertificatePath;
    public string PrivateKeyPath => _files.PrivateKeyPath;
    /// <summary>False when the user brought a CSR: the config names the key file, which the user supplies.</summary>
    public bool PrivateKeyWritten => _files.PrivateKeyWritten;
    public string? CertificateRequestPath => _files.CertificateRequestPath;
    public string Subject => _files.CertificateSubject;
    public string Issuer => _files.CertificateIssuer;
    public DateTime NotAfter => _files.CertificateNotAfter;
    public string[] Brokers { get; }
    public string[] WebSocketBrokers { get; }
    /// <summary>The connected session (with -Connect), else null.</summary>
    public DxlSession? Session { get; internal set; }
}
