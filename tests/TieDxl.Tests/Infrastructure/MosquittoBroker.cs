using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TieDxl.Tests.Infrastructure;

/// <summary>
/// A real mosquitto on a free loopback port with mutual TLS (client certificate required). Tests fail, never
/// skip, when mosquitto is missing: build.ps1 -Task Test installs it.
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly string _folder;
    private Process? _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();

    /// <summary>A plaintext (no TLS) mosquitto listener: what a client must refuse to use.</summary>
    public static MosquittoBroker StartPlainText() => new(null, null, null);

    public MosquittoBroker(string? caFile, string? certFile, string? keyFile, int port = 0, int webSocketPort = 0)
    {
        _folder = Directory.CreateTempSubdirectory("tiedxl-mosquitto-").FullName;
        Port = port == 0 ? FreeLoopbackPort() : port;
        // Two free-port probes in a row can return the same port; mosquitto would then fail to bind the second listener.
        for (var tries = 0; tries < 10 && port == 0 && Port == webSocketPort; tries++) Port = FreeLoopbackPort();
        WebSocketPort = webSocketPort;
        ConfigFile = Path.Combine(_folder, "mosquitto.conf");
        // 'user root' keeps mosquitto from dropping to a user that cannot read the 0600 key when tests run as root.
        File.WriteAllText(ConfigFile, string.Join('\n',
            "per_listener_settings false",
            "persistence false",
            "allow_anonymous true",
            "user root",
            $"listener {Port} 127.0.0.1",
            caFile is null ? "" : $"cafile {caFile}\ncertfile {certFile}\nkeyfile {keyFile}\nrequire_certificate true",
            webSocketPort == 0 ? "" : $"listener {webSocketPort} 127.0.0.1\nprotocol websockets\ncafile {caFile}\ncertfile {certFile}\nkeyfile {keyFile}\nrequire_certificate true",
            "max_packet_size 2000000",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            ""));
        Start();
    }

    public int Port { get; }
    public int WebSocketPort { get; }
    public string ConfigFile { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What mosquitto wrote to stderr (errors and warnings), for failure messages.</summary>
    public string Log => string.Join('\n', _log);

    public static string Executable()
    {
        foreach (var candidate in new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/local/bin/mosquitto" })
            if (File.Exists(candidate)) return candidate;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "mosquitto.exe" : "mosquitto");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("mosquitto is not installed: install it (Debian: apt-get install mosquitto) — build.ps1 -Task Test does this when run as root.");
    }

    public void Start()
    {
        if (IsRunning) return;
        var info = new ProcessStartInfo(Executable(), $"-c \"{ConfigFile}\"")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info) ?? throw new InvalidOperationException("mosquitto did not start");
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) _log.Enqueue(line); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        WaitUntilListening(TimeSpan.FromSeconds(10));
    }

    /// <summary>Kills the broker hard, as a crash would.</summary>
    public void Kill()
    {
        if (_process is null) return;
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _process.Dispose();
        _process = null;
    }

    /// <summary>Waits until every listener accepts: mosquitto opens the websockets one after the MQTT one.</summary>
    private void WaitUntilListening(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var port in WebSocketPort == 0 ? new[] { Port } : new[] { Port, WebSocketPort })
        {
            while (!Accepts(port))
            {
                if (_process!.HasExited)
                    throw new InvalidOperationException($"mosquitto exited at start with code {_process.ExitCode} (config {ConfigFile}): {Log}");
                if (DateTime.UtcNow >= deadline)
                    throw new TimeoutException($"mosquitto did not listen on 127.0.0.1:{port} within {timeout.TotalSeconds} s: {Log}");
                Thread.Sleep(50);
            }
        }
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        Kill();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
