using TieDxl.Dxl.Provisioning;

namespace TieDxl;

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
