using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Fabric.Broker;
using TieDxl.Fabric.Pki;
using TieDxl.Fabric.Provisioning;
using TieDxl.Fabric.Simulator;

namespace TieDxl.Fabric;

/// <summary>Options of <see cref="DxlTestFabric.StartAsync"/>.</summary>
public sealed class DxlTestFabricOptions
{
    /// <summary>Where the certificates and dxlclient.config go; a new temporary folder when null (removed at stop).</summary>
    public string? Folder { get; set; }

    /// <summary>Loopback port of the broker; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>Host the TIE simulator on the fabric (default) — turn off for a bare broker.</summary>
    public bool WithTieSimulator { get; set; } = true;

    /// <summary>Extra reputations for the simulator (JSON seed file, see TieSimulatorSeed).</summary>
    public string? SeedFile { get; set; }

    /// <summary>Added delay per simulated TIE request, standing in for a remote server.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Also serve the ePO-compatible provisioning endpoint (default) on a free loopback port.</summary>
    public bool WithProvisioningEndpoint { get; set; } = true;

    /// <summary>Topic filters the broker refuses to subscribe any client to (see <see cref="DxlFabricBrokerOptions.DeniedSubscriptions"/>).</summary>
    public IReadOnlyCollection<string> DeniedSubscriptions { get; set; } = Array.Empty<string>();

    public DxlLogSink? Log { get; set; }
}

/// <summary>
/// An embedded DXL fabric for demos, offline script testing and our tests — never a production broker:
/// a throwaway PKI, an in-process DXL broker on loopback with mutual TLS, a dxlclient.config that our client and
/// the OpenDXL Python client use unchanged, and (by default) the TIE simulator connected to it.
/// </summary>
public sealed class DxlTestFabric : IAsyncDisposable
{
    private readonly bool _ownsFolder;

    private DxlTestFabric(DxlTestPki pki, DxlFabricBroker broker, DxlTestPkiFiles files, bool ownsFolder) =>
        (Pki, Broker, Files, _ownsFolder) = (pki, broker, files, ownsFolder);

    public DxlTestPki Pki { get; }
    public DxlFabricBroker Broker { get; }
    public DxlTestPkiFiles Files { get; }

    /// <summary>The generated dxlclient.config: pass it to Connect-DxlFabric or the Python client.</summary>
    public string ConfigPath => Files.ConfigPath;
    public int Port => Broker.Port;
    public TieSimulator? Simulator { get; private set; }

    /// <summary>The ePO-compatible provisioning endpoint (null when turned off): its CA signs CSRs, it lists this broker.</summary>
    public EpoProvisioningEndpoint? Provisioning { get; private set; }

    private DxlClient? _simulatorClient;

    public static async Task<DxlTestFabric> StartAsync(DxlTestFabricOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DxlTestFabricOptions();
        var ownsFolder = options.Folder is null;
        var folder = options.Folder ?? Directory.CreateTempSubdirectory("tiedxl-fabric-").FullName;
        var pki = DxlTestPki.Create();
        DxlFabricBroker? broker = null;
        DxlTestPkiFiles files;
        try
        {
            broker = new DxlFabricBroker(new DxlFabricBrokerOptions
            {
                ServerCertificate = pki.Broker.Certificate,
                ClientCertificateAuthorities = pki.CaCertificates,
                Port = options.Port,
                // In braces, as the brokers of an ePO-managed fabric name themselves and ePO lists them.
                BrokerGuid = "{" + Guid.NewGuid().ToString("D") + "}",
                DeniedSubscriptions = options.DeniedSubscriptions,
            });
            await broker.StartAsync(cancellationToken).ConfigureAwait(false);
            files = pki.WriteClientFiles(folder, new DxlTestConfigOptions { Port = broker.Port, BrokerId = broker.BrokerGuid });
        }
        catch
        {
            if (broker is not null) await broker.DisposeAsync().ConfigureAwait(false);
            pki.Dispose();
            if (ownsFolder) TryDelete(folder);
            throw;
        }

        var fabric = new DxlTestFabric(pki, broker, files, ownsFolder);
        if (options.WithTieSimulator || options.WithProvisioningEndpoint)
        {
            try
            {
                if (options.WithProvisioningEndpoint)
                    fabric.Provisioning = new EpoProvisioningEndpoint(pki, new[] { fabric.ProvisionedBroker() });
                if (options.WithTieSimulator)
                    await fabric.StartSimulatorAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await fabric.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        return fabric;
    }

    private async Task StartSimulatorAsync(DxlTestFabricOptions options, CancellationToken cancellationToken)
    {
        _simulatorClient = new DxlClient(NewClientConfig(), options.Log);
        await _simulatorClient.ConnectAsync(cancellationToken).ConfigureAwait(false);
        Simulator = new TieSimulator(_simulatorClient, new TieSimulatorOptions
        {
            SeedFile = options.SeedFile,
            ResponseDelay = options.ResponseDelay,
            // The embedded broker acknowledges registrations: wait, so the first lookup cannot race the registry.
            RegistrationAcknowledgementTimeout = TimeSpan.FromSeconds(10),
        });
        await Simulator.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// This broker as the provisioning endpoint lists it: under the broker's own GUID, as ePO lists its brokers. The
    /// broker drops messages addressed only to other broker ids, so any other id would make addressed messages vanish.
    /// </summary>
    public DxlBroker ProvisionedBroker() => new(Broker.BrokerGuid, "127.0.0.1", Port, "127.0.0.1");

    /// <summary>A client config for this fabric (fresh client id each call).</summary>
    public DxlClientConfig NewClientConfig() => DxlClientConfig.Load(ConfigPath);

    public async ValueTask DisposeAsync()
    {
        if (Provisioning is not null) await Provisioning.DisposeAsync().ConfigureAwait(false);
        if (Simulator is not null) await Simulator.DisposeAsync().ConfigureAwait(false);
        if (_simulatorClient is not null) await _simulatorClient.DisposeAsync().ConfigureAwait(false);
        await Broker.DisposeAsync().ConfigureAwait(false);
        Pki.Dispose();
        if (_ownsFolder) TryDelete(Files.Folder);
    }

    private static void TryDelete(string folder)
    {
        // A temporary folder of throwaway test keys: a file still open elsewhere must not fail the stop.
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { /* left in the temp folder; nothing depends on its removal */ }
        catch (UnauthorizedAccessException) { /* as above */ }
    }
}
