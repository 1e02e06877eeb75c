using System.Security.Cryptography.X509Certificates;

namespace TieDxl.Dxl.Config;

/// <summary>HTTP CONNECT proxy, used for WebSocket brokers only (as the Python client does).</summary>
public sealed record DxlProxy(string Address, int Port, string? User = null, string? Password = null)
{
    // Never print the password.
    public override string ToString() => $"http://{(string.IsNullOrEmpty(User) ? "" : User + "@")}{Address}:{Port}";
}

/// <summary>
/// Everything a <see cref="Client.DxlClient"/> needs: brokers, certificates and the connection policy.
/// Read from an OpenDXL <c>dxlclient.config</c> with <see cref="Load"/>, or built in code.
/// </summary>
public sealed class DxlClientConfig
{
    /// <summary>The file this config was read from (null when built in code). Relative paths resolve against its folder.</summary>
    public string? ConfigFilePath { get; set; }

    // [Certs]
    public string? BrokerCertChainPath { get; set; }
    public string? CertFilePath { get; set; }
    public string? PrivateKeyPath { get; set; }

    /// <summary>Password of an encrypted PEM key or a PKCS#12 file. Never logged.</summary>
    public string? PrivateKeyPassword { get; set; }

    /// <summary>A client certificate with its private key, instead of the files.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>The CA bundle that validates brokers, instead of <see cref="BrokerCertChainPath"/>.</summary>
    public X509Certificate2Collection? BrokerCaCertificates { get; set; }

    // [Brokers] / [BrokersWebSockets]
    public List<DxlBroker> Brokers { get; } = new();
    public List<DxlBroker> WebSocketBrokers { get; } = new();

    // [General]
    /// <summary>Null: WebSockets only when there are WebSocket brokers and no MQTT ones (as Python).</summary>
    public bool? UseWebSockets { get; set; }

    /// <summary>MQTT client id and reply-topic suffix. "{uuid}" by default, unique per config object.</summary>
    public string ClientId { get; set; } = "{" + Guid.NewGuid().ToString("D") + "}";

    // [Proxy]
    public DxlProxy? Proxy { get; set; }

    // Connection policy (defaults of the Python client 5.7, shared spec §4.6).
    public int KeepAliveSeconds { get; set; } = 1800;
    /// <summary>Attempts of one connect run = retries + 1; -1 is unlimited.</summary>
    public int ConnectRetries { get; set; } = 1;
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan ReconnectDelayMax { get; set; } = TimeSpan.FromSeconds(60);
    public double ReconnectBackOffMultiplier { get; set; } = 2;
    public double ReconnectDelayRandom { get; set; } = 0.25;
    public bool ReconnectWhenDisconnected { get; set; } = true;
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan BrokerProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Reference clients accept any host name once the chain validates; this opts in to a strict check.</summary>
    public bool StrictHostNameCheck { get; set; }

    /// <summary>The brokers this config connects to: WebSocket or MQTT, never both (no fallback).</summary>
    public IReadOnlyList<DxlBroker> EffectiveBrokers =>
        (UseWebSockets ?? (WebSocketBrokers.Count > 0 && Brokers.Count == 0)) ? WebSocketBrokers : Brokers;

    /// <summary>Reads an OpenDXL dxlclient.config. Throws <see cref="DxlConfigException"/> naming file, line or setting.</summary>
    public static DxlClientConfig Load(string path) => throw new NotImplementedException();

    /// <summary>Loads (or returns) the client certificate with its key. Throws <see cref="DxlConfigException"/>.</summary>
    public X509Certificate2 GetClientCertificate() => throw new NotImplementedException();

    /// <summary>Loads (or returns) the broker CA bundle. Throws <see cref="DxlConfigException"/>.</summary>
    public X509Certificate2Collection GetBrokerCaCertificates() => throw new NotImplementedException();
}
