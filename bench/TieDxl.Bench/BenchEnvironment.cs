using TieDxl.Dxl.Config;
using TieDxl.Fabric;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Bench;

/// <summary>A broker on loopback with a throwaway PKI: mosquitto (separate process) or the embedded fabric (in process).</summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly Func<ValueTask> _stop;

    private BenchEnvironment(string configPath, Func<ValueTask> stop, DxlTestFabric? fabric = null)
    {
        ConfigPath = configPath;
        _stop = stop;
        Fabric = fabric;
    }

    public string ConfigPath { get; }
    public DxlTestFabric? Fabric { get; }

    public DxlClientConfig NewConfig() => DxlClientConfig.Load(ConfigPath);

    public static async Task<BenchEnvironment> StartAsync(string broker, DxlTestFabricOptions? fabricOptions = null)
    {
        switch (broker)
        {
            case "mosquitto":
            {
                var pki = DxlTestPki.Create();
                var folder = Directory.CreateTempSubdirectory("tiedxl-bench-").FullName;
                var port = MosquittoBroker.FreeLoopbackPort();
                var files = pki.WriteClientFiles(folder, new DxlTestConfigOptions { Port = port });
                var mosquitto = new MosquittoBroker(files.CaPath, files.BrokerCertPath, files.BrokerKeyPath, port);
                return new BenchEnvironment(files.ConfigPath, () =>
                {
                    mosquitto.Dispose();
                    pki.Dispose();
                    try { Directory.Delete(folder, true); } catch (IOException) { }
                    return ValueTask.CompletedTask;
                });
            }
            case "fabric":
            {
                var fabric = await DxlTestFabric.StartAsync(fabricOptions ?? new DxlTestFabricOptions { WithTieSimulator = false });
                return new BenchEnvironment(fabric.ConfigPath, fabric.DisposeAsync, fabric);
            }
            default:
                throw new ArgumentException($"unknown broker '{broker}' (mosquitto or fabric)");
        }
    }

    public static string VectorsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TieDxl.slnx")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "vectors", "dxl"));
        throw new DirectoryNotFoundException("repository root (TieDxl.slnx) not found above " + AppContext.BaseDirectory);
    }

    public ValueTask DisposeAsync() => _stop();
}
