using System.Management.Automation;
using TieDxl.Dxl.Provisioning;

namespace TieDxl.Commands.Provisioning;

/// <summary>
/// Update-DxlClientConfig: the OpenDXL CLI's updateconfig — ePO's current CA bundle and broker list into an
/// existing dxlclient.config; retired brokers are removed, comments and other settings kept. -WhatIf lists the
/// broker changes without writing.
/// </summary>
[Cmdlet(VerbsData.Update, "DxlClientConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DxlClientConfigUpdateInfo))]
public sealed class UpdateDxlClientConfigCommand : EpoCmdletBase
{
    [Parameter(Position = 0)]
    [Alias("Path")]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = DxlClientConfigWriter.ConfigFileName;

    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string EpoServer { get; set; } = "";

    [Parameter(Mandatory = true)]
    [Credential]
    [ValidateNotNull]
    public PSCredential Credential { get; set; } = null!;

    protected override void EndProcessing()
    {
        var configPath = ResolvePath(ConfigPath);
        using var epo = CreateEpoClient(EpoServer, Credential);
        var plan = RunProvisioning(ct => DxlProvisioner.PlanUpdateAsync(epo, configPath, ct), configPath);
        if (!plan.HasChanges)
        {
            WriteVerbose($"{configPath} already has ePO's CA bundle and brokers; nothing to change.");
            WriteObject(new DxlClientConfigUpdateInfo(plan, applied: false));
            return;
        }

        var changes = plan.BrokerChanges.Concat(plan.WebSocketBrokerChanges).Where(c => c.Kind != DxlBrokerChangeKind.Unchanged).Select(c => c.ToString()).ToList();
        if (plan.CaBundleChanged) changes.Add($"Replace the CA bundle {plan.CaBundlePath}");
        var description = $"Update {configPath}: {string.Join("; ", changes)}";
        WriteVerbose(description); // -WhatIf prints to the host only; this puts the plan in a stream too
        if (!ShouldProcess(description, description + "?", "Update-DxlClientConfig")) return;
        Guard(() => DxlClientConfigUpdater.Apply(plan), configPath);
        WriteObject(new DxlClientConfigUpdateInfo(plan, applied: true));
    }
}
