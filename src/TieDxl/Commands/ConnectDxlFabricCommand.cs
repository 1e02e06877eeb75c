using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl;
using TieDxl.Errors;
using TieDxl.Dxl.Config;
using TieDxl.Commands.Tie;
using TieDxl.Session;

using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Commands;

/// <summary>
/// Connect-DxlFabric: opens a DXL session from a dxlclient.config, from broker URLs with certificate files,
/// or with an X509Certificate2; the session becomes the runspace's default. Never prompts.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "DxlFabric", DefaultParameterSetName = ConfigFileSet)]
[OutputType(typeof(DxlSession))]
public sealed class ConnectDxlFabricCommand : TieDxlCmdletBase
{
    private const string ConfigFileSet = "ConfigFile";
    private const string CertificateFileSet = "CertificateFile";
    private const string CertificateSet = "Certificate";

    /// <summary>Environment variable with the path of a dxlclient.config, used when neither -ConfigPath nor -Broker is given.</summary>
    public const string ConfigEnvironmentVariable = DxlConfigLocation.EnvironmentVariable;

    [Parameter(ParameterSetName = ConfigFileSet, Position = 0)]
    [Alias("Path")]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [Parameter(ParameterSetName = CertificateSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string[] Broker { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = "";

    [Parameter(ParameterSetName = CertificateFileSet)]
    [ValidateNotNullOrEmpty]
    public string? PrivateKeyPath { get; set; }

    [Parameter(ParameterSetName = CertificateFileSet)]
    [Parameter(ParameterSetName = ConfigFileSet)]
    public SecureString? PrivateKeyPassword { get; set; }

    [Parameter(ParameterSetName = CertificateSet, Mandatory = true)]
    [ValidateNotNull]
    public X509Certificate2 Certificate { get; set; } = null!;

    [Parameter(ParameterSetName = CertificateFileSet, Mandatory = true)]
    [Parameter(ParameterSetName = CertificateSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CaBundlePath { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    [Parameter]
    public SwitchParameter StrictHostName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The oldest reputation the session's cache serves (10 minutes by default); zero turns the cache off.</summary>
    [Parameter]
    [ValidateMaxAge]
    public TimeSpan CacheMaxAge { get; set; } = TieClient.DefaultCacheMaxAge;

    /// <summary>How many hashes the session's cache holds at most (100,000 by default).</summary>
    [Parameter]
    [ValidateRange(3, 100_000_000)]
    public int CacheMaxEntries { get; set; } = TieClient.DefaultCacheMaxEntries;

    /// <summary>No session cache (the same as -CacheMaxAge 0); lookups still share requests within one command.</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    /// <summary>The session's cap on lookups per second that reach TIE; none by default. A command's own -MaxRequestsPerSecond replaces it.</summary>
    [Parameter]
    [ValidateRange(TieRequestRate.MinRequestsPerSecond, TieRequestRate.MaxRequestsPerSecond)]
    public double MaxRequestsPerSecond { get; set; }

    protected override void ProcessRecord()
    {
        var registry = SessionRegistry.Current;
        if (Name is not null && registry.FindByName(Name) is { } existing)
        {
            ThrowError(ErrorCatalog.SessionNameInUse, ErrorCategory.InvalidArgument, Name,
                $"A DXL session named '{Name}' is already open ({existing}). Disconnect it first or choose another -Name.");
        }

        var (config, target) = ParameterSetName switch
        {
            CertificateFileSet => ConfigFromFiles(),
            CertificateSet => ConfigFromCertificate(),
            _ => ConfigFromFile(),
        };
        config.StrictHostNameCheck = StrictHostName.IsPresent || config.StrictHostNameCheck;
        var timeout = TimeSpan.FromSeconds(TimeoutSec);
        if (config.ConnectTimeout > timeout) config.ConnectTimeout = timeout;

        var session = Guard(() => registry.Create(Name, config), target);
        session.ConfigureLookups(NoCache ? TimeSpan.Zero : CacheMaxAge, CacheMaxEntries,
            MyInvocation.BoundParameters.ContainsKey(nameof(MaxRequestsPerSecond)) ? MaxRequestsPerSecond : null);

        WriteVerbose($"Connecting to {string.Join(", ", session.Brokers)} as {session.ClientId} (timeout {TimeoutSec} s).");
        try
        {
            OpenSession(session, timeout);
        }
        catch (TimeoutException ex)
        {
            ThrowError(ErrorCatalog.ConnectTimeout, ErrorCategory.OperationTimeout, target,
                $"Could not connect to {string.Join(", ", session.Brokers)} within {TimeoutSec} s.", ex,
                "Check that a broker is reachable (host, port, firewall, proxy) or raise -TimeoutSec.");
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            throw ThrowDxlError(ex, target);
        }

        WriteVerbose($"Connected: {session}. It is now the default session of this runspace.");
        if (PassThru) WriteObject(session);
    }

    private (DxlClientConfig, object) ConfigFromFile()
    {
        if (DxlConfigLocation.Find(ConfigPath, null, ResolvePath) is not { } location)
        {
            throw ThrowError(ErrorCatalog.ConfigNotSpecified, ErrorCategory.InvalidArgument, ConfigEnvironmentVariable,
                "No DXL configuration was given. Pass -ConfigPath <dxlclient.config>, or -Broker with -CertificatePath, " +
                $"-PrivateKeyPath and -CaBundlePath, or set the {ConfigEnvironmentVariable} environment variable to the path of a dxlclient.config.",
                recommendedAction: "Connect-DxlFabric -ConfigPath ./dxlclient.config");
        }

        var full = location.Path;
        if (!File.Exists(full))
        {
            var source = location.Source is { } from ? $" (from {from})" : "";
            var message = $"The DXL configuration file '{full}'{source} does not exist.";
            ThrowError(ErrorCatalog.ConfigFileNotFound, ErrorCategory.ObjectNotFound, full, message, new FileNotFoundException(message, full));
        }

        var config = Guard(() => DxlClientConfig.Load(full), full);
        // An encrypted key's password stays out of the file (the reference clients have no setting for it).
        if (PrivateKeyPassword is not null) config.PrivateKeyPassword = new NetworkCredential("", PrivateKeyPassword).Password;
        return (config, full);
    }

    private (DxlClientConfig, object) ConfigFromFiles()
    {
        var config = new DxlClientConfig
        {
            CertFilePath = ExistingFile(CertificatePath, nameof(CertificatePath)),
            PrivateKeyPath = PrivateKeyPath is null ? null : ExistingFile(PrivateKeyPath, nameof(PrivateKeyPath)),
            BrokerCertChainPath = ExistingFile(CaBundlePath, nameof(CaBundlePath)),
            PrivateKeyPassword = PrivateKeyPassword is null ? null : new NetworkCredential("", PrivateKeyPassword).Password,
        };
        AddBrokers(config);
        return (config, string.Join(", ", Broker));
    }

    private (DxlClientConfig, object) ConfigFromCertificate()
    {
        if (!Certificate.HasPrivateKey)
        {
            ThrowError(ErrorCatalog.CertificateWithoutKey, ErrorCategory.InvalidArgument, Certificate,
                $"The certificate '{Certificate.Subject}' ({Certificate.Thumbprint}) has no private key; a DXL client certificate needs one.");
        }
        var config = new DxlClientConfig
        {
            ClientCertificate = Certificate,
            BrokerCertChainPath = ExistingFile(CaBundlePath, nameof(CaBundlePath)),
        };
        AddBrokers(config);
        return (config, string.Join(", ", Broker));
    }

    private void AddBrokers(DxlClientConfig config)
    {
        foreach (var text in Broker)
        {
            DxlBroker broker;
            try
            {
                broker = DxlBroker.ParseUrl(text.Trim());
            }
            catch (DxlConfigException ex)
            {
                throw ThrowError(ErrorCatalog.InvalidBroker, ErrorCategory.InvalidArgument, text,
                    $"'{text}' is not a broker address: {ex.Message} Use host, host:port, ssl://host:port or wss://host:port.", ex);
            }
            (broker.IsWebSocket ? config.WebSocketBrokers : config.Brokers).Add(broker);
        }
        if (config.Brokers.Count > 0 && config.WebSocketBrokers.Count > 0)
        {
            ThrowError(ErrorCatalog.InvalidBroker, ErrorCategory.InvalidArgument, string.Join(", ", Broker),
                "-Broker mixes MQTT (ssl://) and WebSocket (wss://) brokers; a session uses one kind only.");
        }
        config.UseWebSockets = config.WebSocketBrokers.Count > 0;
    }

    private string ExistingFile(string path, string parameter)
    {
        var full = ResolvePath(path);
        if (!File.Exists(full))
        {
            var message = $"The file '{full}' given with -{parameter} does not exist.";
            ThrowError(ErrorCatalog.CertificateFileNotFound, ErrorCategory.ObjectNotFound, full, message, new FileNotFoundException(message, full));
        }
        return full;
    }

    private string ResolvePath(string path)
    {
        try
        {
            return SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        }
        catch (Exception ex) when (ex is ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or NotSupportedException)
        {
            throw ThrowError(ErrorCatalog.ConfigFileNotFound, ErrorCategory.ObjectNotFound, path,
                $"The path '{path}' cannot be resolved to a file: {ex.Message}", ex);
        }
    }
}
