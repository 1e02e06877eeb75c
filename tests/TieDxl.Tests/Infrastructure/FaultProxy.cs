using System.Net;
using System.Net.Sockets;

namespace TieDxl.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder from a loopback port to a loopback broker that breaks the line on command, the way networks and
/// brokers do: <see cref="Freeze"/> stops traffic both ways with every socket left open (a frozen VM, a firewall
/// dropping packets), <see cref="CloseAll"/> resets the connections, <see cref="RefuseNew"/> stops listening
/// (connection refused), <see cref="Latency"/> delays every chunk. Loopback only.
/// </summary>
public sealed class FaultProxy : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly IPEndPoint _target;
    private readonly object _lock = new();
    private readonly List<Link> _links = new();
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private TaskCompletionSource _thawed = Completed();
    private int _accepted;

    public FaultProxy(int targetPort)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _ = AcceptLoopAsync(listener);
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections open right now.</summary>
    public int OpenConnections
    {
        get { lock (_lock) return _links.Count; }
    }

    /// <summary>Added to every chunk forwarded in either direction.</summary>
    public TimeSpan Latency { get; set; }

    public bool IsFrozen => !Volatile.Read(ref _thawed).Task.IsCompleted;

    /// <summary>Stops forwarding both ways; sockets stay open and new connections are accepted but frozen too.</summary>
    public void Freeze()
    {
        lock (_lock)
        {
            if (_thawed.Task.IsCompleted) _thawed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Resumes forwarding; what was held back flows on.</summary>
    public void Heal()
    {
        lock (_lock) _thawed.TrySetResult();
    }

    /// <summary>Resets every open connection (RST, as a crashed broker's host does).</summary>
    public void CloseAll()
    {
        Link[] links;
        lock (_lock) links = _links.ToArray();
        foreach (var link in links) link.Close(reset: true);
    }

    /// <summary>Stops listening: new connections are refused until <see cref="AcceptNew"/>.</summary>
    public void RefuseNew()
    {
        TcpListener? listener;
        lock (_lock)
        {
            listener = _listener;
            _listener = null;
        }
        listener?.Stop();
    }

    /// <summary>Listens again on the same port.</summary>
    public void AcceptNew()
    {
        lock (_lock)
        {
            if (_listener is not null) return;
            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            _ = AcceptLoopAsync(listener);
        }
    }

    /// <summary>A broker restart as clients see it: connections reset, refused for <paramref name="down"/>, then accepted again.</summary>
    public async Task RestartAsync(TimeSpan down)
    {
        RefuseNew();
        CloseAll();
        await Task.Delay(down);
        AcceptNew();
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException) { return; }
            Interlocked.Increment(ref _accepted);
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            client.Dispose();
            upstream.Dispose();
            return;
        }
        var link = new Link(client, upstream);
        lock (_lock) _links.Add(link);
        try
        {
            await Task.WhenAll(PumpAsync(client, upstream, link), PumpAsync(upstream, client, link));
        }
        finally
        {
            link.Close(reset: false);
            lock (_lock) _links.Remove(link);
        }
    }

    /// <summary>One direction; ends when either side closes. Waits while frozen before reading and before writing.</summary>
    private async Task PumpAsync(Socket from, Socket to, Link link)
    {
        var buffer = new byte[BufferSize];
        try
        {
            while (!link.Closed.IsCancellationRequested)
            {
                await WaitThawedAsync(link.Closed.Token);
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, link.Closed.Token);
                if (read == 0) break;
                if (Latency > TimeSpan.Zero) await Task.Delay(Latency, link.Closed.Token);
                await WaitThawedAsync(link.Closed.Token);
                var sent = 0;
                while (sent < read) sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, link.Closed.Token);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        link.Close(reset: false);
    }

    private Task WaitThawedAsync(CancellationToken cancellationToken)
    {
        var thawed = Volatile.Read(ref _thawed).Task;
        return thawed.IsCompleted ? Task.CompletedTask : thawed.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource Completed()
    {
        var tcs = new TaskCompletionSource();
        tcs.SetResult();
        return tcs;
    }

    public void Dispose()
    {
        _stop.Cancel();
        RefuseNew();
        CloseAll();
        Heal();
    }

    private sealed class Link(Socket client, Socket upstream)
    {
        private int _closed;
        public CancellationTokenSource Closed { get; } = new();

        public void Close(bool reset)
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0) return;
            foreach (var socket in new[] { client, upstream })
            {
                try
                {
                    if (reset) socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            }
            Closed.Cancel();
        }
    }
}
