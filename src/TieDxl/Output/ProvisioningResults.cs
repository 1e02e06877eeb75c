using TieDxl.Dxl.Provisioning;

namespace TieDxl.Output;

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

/// <summary>What Update-DxlClientConfig changed (or, with -WhatIf, would change).</summary>
public sealed class DxlClientConfigUpdateInfo
{
    internal DxlClientConfigUpdateInfo(DxlClientConfigUpdatePlan plan, bool applied)
    {
        ConfigPath = plan.ConfigPath;
        CaBundlePath = plan.CaBundlePath;
        CaBundleChanged = plan.CaBundleChanged;
        var all = plan.BrokerChanges.Concat(plan.WebSocketBrokerChanges).ToList();
        string[] Of(DxlBrokerChangeKind kind) => all.Where(c => c.Kind == kind).Select(c => c.Broker.ToString()).ToArray();
        Added = Of(DxlBrokerChangeKind.Added);
        Removed = Of(DxlBrokerChangeKind.Removed);
        Changed = Of(DxlBrokerChangeKind.Changed);
        Unchanged = Of(DxlBrokerChangeKind.Unchanged);
        Applied = applied;
    }

    public string ConfigPath { get; }
    public string CaBundlePath { get; }
    public bool CaBundleChanged { get; }
    public string[] Added { get; }
    public string[] Removed { get; }
    public string[] Changed { get; }
    public string[] Unchanged { get; }
    /// <summary>False when nothing had to change.</summary>
    public bool Applied { get; }
}
