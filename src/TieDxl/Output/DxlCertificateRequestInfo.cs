namespace TieDxl;

/// <summary>What New-DxlCertificateRequest wrote.</summary>
public sealed class DxlCertificateRequestInfo
{
    internal DxlCertificateRequestInfo(string subject, string csrPath, string privateKeyPath, bool keyEncrypted)
    {
        Subject = subject;
        CertificateRequestPath = csrPath;
        PrivateKeyPath = privateKeyPath;
        PrivateKeyEncrypted = keyEncrypted;
    }

    public string Subject { get; }
    public string CertificateRequestPath { get; }
    public string PrivateKeyPath { get; }
    public bool PrivateKeyEncrypted { get; }
}
