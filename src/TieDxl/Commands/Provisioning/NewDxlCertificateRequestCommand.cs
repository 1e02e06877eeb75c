using System.Management.Automation;
using System.Net;
using System.Security;
using TieDxl.Dxl.Provisioning;

namespace TieDxl.Commands.Provisioning;

/// <summary>
/// New-DxlCertificateRequest: an RSA 2048 key and a CSR as the OpenDXL CLI makes them, written as
/// {Prefix}.key (owner-only) and {Prefix}.csr, for ePO or another CA to sign.
/// </summary>
[Cmdlet(VerbsCommon.New, "DxlCertificateRequest", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DxlCertificateRequestInfo))]
public sealed class NewDxlCertificateRequestCommand : TieDxlCmdletBase
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string CommonName { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] SubjectAlternativeName { get; set; } = Array.Empty<string>();

    [Parameter] public string? Organization { get; set; }
    [Parameter] public string? OrganizationalUnit { get; set; }
    [Parameter] public string? Locality { get; set; }
    [Parameter] public string? StateOrProvince { get; set; }
    [Parameter] [ValidateLength(2, 2)] public string? Country { get; set; }
    [Parameter] public string? EmailAddress { get; set; }

    /// <summary>The folder to write to (created if missing); the current one by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = ".";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Prefix { get; set; } = DxlClientConfigWriter.DefaultPrefix;

    /// <summary>Encrypts the key (PKCS#8, PBKDF2 + AES-256).</summary>
    [Parameter]
    public SecureString? KeyPassword { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        var folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var target = System.IO.Path.Combine(folder, Prefix + ".key");
        if (!ShouldProcess(target, $"Write a new private key and certificate request ({Prefix}.key, {Prefix}.csr) for CN={CommonName}")) return;
        Guard(() =>
        {
            using var request = DxlCertificateRequest.Create(new DxlCertificateSubject
            {
                CommonName = CommonName,
                DnsNames = SubjectAlternativeName,
                Organization = Organization,
                OrganizationalUnit = OrganizationalUnit,
                Locality = Locality,
                StateOrProvince = StateOrProvince,
                Country = Country,
                Email = EmailAddress,
            });
            var password = KeyPassword is null ? "" : new NetworkCredential("", KeyPassword).Password;
            var (csrPath, keyPath) = request.Write(folder, Prefix, password, Force);
            WriteVerbose($"Wrote {keyPath} (owner-only) and {csrPath} for {request.Subject}.");
            WriteObject(new DxlCertificateRequestInfo(request.Subject, csrPath, keyPath, KeyPassword is not null));
        }, target);
    }
}
