using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TieDxl.Tests.Infrastructure;

/// <summary>A minimal HTTP CONNECT proxy on loopback that counts the tunnels it opened (for the wss proxy test).</summary>
public sealed class ConnectProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _tunnels;

    public ConnectProxy()
    {
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Tunnels => Volatile.Read(ref _tunnels);
    public List<string> Requests { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = TunnelAsync(client);
        }
    }

    private async Task TunnelAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var header = new StringBuilder();
        var one = new byte[1];
        // Read the request head byte by byte: the tunnel's first bytes must not be swallowed.
        while (!header.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && header.Length < 8192)
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0) return;
            header.Append((char)one[0]);
        }
        var requestLine = header.ToString().Split("\r\n")[0];
        lock (Requests) Requests.Add(requestLine);
        var parts = requestLine.Split(' ');
        if (parts.Length < 2 || parts[0] != "CONNECT")
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 405 Method Not Allowed\r\n\r\n"), _stop.Token);
            return;
        }
        var target = parts[1];
        var colon = target.LastIndexOf(':');
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(target[..colon].Trim('[', ']'), int.Parse(target[(colon + 1)..]), _stop.Token);
        Interlocked.Increment(ref _tunnels);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n"), _stop.Token);
        var up = upstream.GetStream();
        await Task.WhenAny(stream.CopyToAsync(up, _stop.Token), up.CopyToAsync(stream, _stop.Token));
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
