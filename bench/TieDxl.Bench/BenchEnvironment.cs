using TieDxl.Dxl.Config;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Bench;

/// <summary>A broker on loopback with a throwaway PKI: mosquitto (separate process) or the embedded fabric.</summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly DxlTestPki _pki;
    private readonly string _folder;
    private readonly IDisposable? _mosquitto;
    private readonly IAsyncDisposable? _fabric;

    private BenchEnvironment(DxlTestPki pki, string folder, string configPath, IDisposable? mosquitto, IAsyncDisposable? fabric)
    {
        _pki = pki;
        _folder = folder;
        ConfigPath = configPath;
        _mosquitto = mosquitto;
        _fabric = fabric;
    }

    public string ConfigPath { get; }

    public DxlClientConfig NewConfig() => DxlClientConfig.Load(ConfigPath);

    public static Task<BenchEnvironment> StartAsync(string broker)
    {
        var pki = DxlTestPki.Create();
        var folder = Directory.CreateTempSubdirectory("tiedxl-bench-").FullName;
        switch (broker)
        {
            case "mosquitto":
            {
                var port = MosquittoBroker.FreeLoopbackPort();
                var files = pki.WriteClientFiles(folder, new DxlTestConfigOptions { Port = port });
                var mosquitto = new MosquittoBroker(files.CaPath, files.BrokerCertPath, files.BrokerKeyPath, port);
                return Task.FromResult(new BenchEnvironment(pki, folder, files.ConfigPath, mosquitto, null));
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

    public async ValueTask DisposeAsync()
    {
        if (_fabric is not null) await _fabric.DisposeAsync();
        _mosquitto?.Dispose();
        _pki.Dispose();
        try { Directory.Delete(_folder, true); } catch (IOException) { }
    }
}
