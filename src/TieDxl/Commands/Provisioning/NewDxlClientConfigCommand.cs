using System.Management.Automation;
using System.Net;
using System.Security;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Provisioning;
using TieDxl.Session;

namespace TieDxl.Commands.Provisioning;

/// <summary>
/// New-DxlClientConfig: writes dxlclient.config, ca-bundle.crt, {Prefix}.crt and {Prefix}.key as the OpenDXL CLI
/// lays them out — provisioned by ePO (a new key and CSR, or a CSR the user brings), or from files exported in
/// the ePO console. Everything is validated before anything is written; -Connect opens a session with the result.
/// </summary>
[Cmdlet(VerbsCommon.New, "DxlClientConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = EpoCommonNameSet)]
[OutputType(typeof(DxlClientConfigInfo))]
public sealed class NewDxlClientConfigCommand : EpoCmdletBase
{
    private const string EpoCommonNameSet = "EpoCommonName";
    private const string EpoRequestSet = "EpoCertificateRequest";
    private const string FilesSet = "ExportedFiles";

    [Parameter(ParameterSetName = EpoCommonNameSet, Mandatory = true)]
    [Parameter(ParameterSetName = EpoRequestSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string EpoServer { get; set; } = "";

    [Parameter(ParameterSetName = EpoCommonNameSet, Mandatory = true)]
    [Parameter(ParameterSetName = EpoRequestSet, Mandatory = true)]
    [Credential]
    [ValidateNotNull]
    public PSCredential Credential { get; set; } = null!;

    [Parameter(ParameterSetName = EpoCommonNameSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CommonName { get; set; } = "";

    [Parameter(ParameterSetName = EpoCommonNameSet)]
    [ValidateNotNullOrEmpty]
    public string[] SubjectAlternativeName { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = EpoCommonNameSet)]
    public string? Organization { get; set; }

    /// <summary>Encrypts the new key (only with -CommonName); -Connect then uses it to open the key.</summary>
    [Parameter(ParameterSetName = EpoCommonNameSet)]
    public SecureString? KeyPassword { get; set; }

    /// <summary>A CSR made before (New-DxlCertificateRequest or openssl); its key stays where it is, as {Prefix}.key in -Path.</summary>
    [Parameter(ParameterSetName = EpoRequestSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificateRequestPath { get; set; } = "";

    [Parameter(ParameterSetName = FilesSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string BrokerListPath { get; set; } = "";

    [Parameter(ParameterSetName = FilesSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CaBundlePath { get; set; } = "";

    [Parameter(ParameterSetName = FilesSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = "";

    [Parameter(ParameterSetName = FilesSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string PrivateKeyPath { get; set; } = "";

    [Parameter(ParameterSetName = FilesSet)]
    public SecureString? PrivateKeyPassword { get; set; }

    /// <summary>The folder to write (created if missing).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Prefix { get; set; } = DxlClientConfigWriter.DefaultPrefix;

    /// <summary>Replace an existing dxlclient.config or key.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Connect a session with the new config at once (it becomes the default).</summary>
    [Parameter]
    public SwitchParameter Connect { get; set; }

    /// <summary>Name of the session -Connect opens.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void EndProcessing()
    {
        var folder = ResolvePath(Path);
        var configPath = System.IO.Path.Combine(folder, DxlClientConfigWriter.ConfigFileName);
        var source = ParameterSetName == FilesSet ? $"the files exported from ePO ({BrokerListPath})" : $"ePO {EpoServer}";
        if (!ShouldProcess(configPath, $"Write dxlclient.config, ca-bundle.crt, {Prefix}.crt and {Prefix}.key from {source}")) return;

        var (files, keyPassword) = ParameterSetName switch
        {
            FilesSet => (FromExportedFiles(folder), PlainText(PrivateKeyPassword)),
            _ => (FromEpo(folder), PlainText(KeyPassword)),
        };
        WriteVerbose($"Wrote {files.ConfigPath}: certificate {files.CertificateSubject} until {files.CertificateNotAfter:u}, brokers {string.Join(", ", files.Brokers)}.");
        var info = new DxlClientConfigInfo(files);
        if (Connect) info.Session = ConnectWith(files.ConfigPath, keyPassword);
        WriteObject(info);
    }

    private DxlClientConfigFiles FromEpo(string folder)
    {
        using var epo = CreateEpoClient(EpoServer, Credential);
        var request = Guard(() => ParameterSetName == EpoRequestSet
            ? DxlCertificateRequest.Load(ResolvePath(CertificateRequestPath))
            : DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = CommonName, DnsNames = SubjectAlternativeName, Organization = Organization }),
            ParameterSetName == EpoRequestSet ? CertificateRequestPath : CommonName);
        using (request)
        {
            WriteVerbose($"Asking ePO {epo.Server} to sign a certificate for {request.Subject}.");
            return RunProvisioning(ct => DxlProvisioner.ProvisionAsync(epo, request, folder, Prefix, Force, PlainText(KeyPassword), ct), EpoServer);
        }
    }

    private DxlClientConfigFiles FromExportedFiles(string folder)
    {
        return Guard(() => DxlClientConfigWriter.Write(DxlClientConfigWriter.PlanFromExportedFiles(folder, ResolvePath(BrokerListPath),
            ResolvePath(CaBundlePath), ResolvePath(CertificatePath), ResolvePath(PrivateKeyPath), PlainText(PrivateKeyPassword), Prefix, Force)),
            BrokerListPath);
    }

    private DxlSession ConnectWith(string configPath, string? keyPassword)
    {
        var registry = SessionRegistry.Current;
        return Guard(() =>
        {
            var config = DxlClientConfig.Load(configPath);
            if (keyPassword is not null) config.PrivateKeyPassword = keyPassword;
            var session = registry.Create(Name, config);
            OpenSession(session, TimeSpan.FromSeconds(30));
            WriteVerbose($"Connected: {session}. It is now the default session of this runspace.");
            return session;
        }, configPath);
    }

    private static string? PlainText(SecureString? secret) => secret is null ? null : new NetworkCredential("", secret).Password;
}
