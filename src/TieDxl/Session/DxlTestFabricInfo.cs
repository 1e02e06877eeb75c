using System.Management.Automation;
using System.Security;
using TieDxl.Fabric;

namespace TieDxl;

/// <summary>What Start-DxlTestFabric started: where its config is, and the session connected to it.</summary>
public sealed class DxlTestFabricInfo
{
    internal DxlTestFabricInfo(DxlTestFabric fabric, DxlSession session)
    {
        Fabric = fabric;
        Session = session;
    }

    internal DxlTestFabric Fabric { get; }
    public DxlSession Session { get; }
    /// <summary>The generated dxlclient.config: Connect-DxlFabric or the OpenDXL Python client can use it as is.</summary>
    public string ConfigPath => Fabric.ConfigPath;
    public string Broker => $"ssl://127.0.0.1:{Fabric.Port}";
    public int Port => Fabric.Port;
    public bool TieSimulator => Fabric.Simulator is not null;
    /// <summary>TIE requests the simulator answered so far.</summary>
    public long TieRequests => Fabric.Simulator?.RequestCount ?? 0;
    /// <summary>External reports the simulator applied so far.</summary>
    public long ExternalReports => Fabric.Simulator?.ExternalReportsAccepted ?? 0;
    /// <summary>Clients connected now (this session included).</summary>
    public int Connections => Fabric.Broker.ConnectionCount;
    /// <summary>The ePO-compatible provisioning endpoint: pass it as -EpoServer to New-DxlClientConfig.</summary>
    public string? ProvisioningServer => Fabric.Provisioning?.Server;
    public string? ProvisioningUrl => Fabric.Provisioning?.Url;
    /// <summary>The endpoint's throwaway user and password, shown on purpose: they open nothing but this fabric.</summary>
    public string? ProvisioningUser => Fabric.Provisioning?.UserName;
    public string? ProvisioningPassword => Fabric.Provisioning?.Password;
    /// <summary>The same credentials, ready for -Credential.</summary>
    public PSCredential? ProvisioningCredential => Fabric.Provisioning is { } p ? new PSCredential(p.UserName, Secure(p.Password)) : null;
    /// <summary>The CA file that checks the endpoint's TLS certificate: pass it as -EpoCaPath.</summary>
    public string ProvisioningCaPath => Fabric.Files.CaPath;
    /// <summary>Clients that said goodbye (Disconnect-DxlFabric, or a session closed at process exit).</summary>
    public long CleanDisconnects => Fabric.Broker.CleanDisconnects;
    /// <summary>Clients whose connection just ended (killed, crashed): what a script under test should never cause.</summary>
    public long AbruptDisconnects => Fabric.Broker.AbruptDisconnects;

    private static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (var c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }
}
