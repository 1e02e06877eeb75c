using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TieDxl.Fabric.Provisioning;

/// <summary>One HTTP request as the handler sees it; query names and values are URL-decoded ('+' is a space).</summary>
public sealed record LoopbackHttpRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers);

/// <summary>One HTTP answer; the body is sent as UTF-8.</summary>
public sealed record LoopbackHttpResponse(int Status, string Reason, string Body, string ContentType = "text/plain;charset=UTF-8")
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A minimal HTTPS/1.1 server on loopback for the provisioning endpoint and its tests: one request per
/// connection (answered with Connection: close), GET without a body. HttpListener cannot serve HTTPS on Linux
/// and Kestrel is not a dependency of the module, hence this.
/// </summary>
public sealed class LoopbackHttpsServer : IAsyncDisposable
{
    private const int MaxHeaderBytes = 1 << 20;
    private readonly TcpListener _listener;
    private readonly X509Certificate2 _certificate;
    private readonly Func<LoopbackHttpRequest, LoopbackHttpResponse> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    /// <summary>Starts listening on 127.0.0.1:<paramref name="port"/> (0 picks a free port) with <paramref name="certificate"/>; <paramref name="handler"/> answers each request.</summary>
    public LoopbackHttpsServer(X509Certificate2 certificate, Func<LoopbackHttpRequest, LoopbackHttpResponse> handler, int port = 0)
    {
        _certificate = certificate;
        _handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, timeout.Token).ConfigureAwait(false);
                var request = await ReadRequestAsync(tls, timeout.Token).ConfigureAwait(false);
                if (request is null) return;
                LoopbackHttpResponse response;
                try { response = _handler(request); }
                catch (Exception e) { response = new LoopbackHttpResponse(500, "Internal Server Error", e.GetType().Name); }
                await WriteResponseAsync(tls, response, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException or SocketException or ObjectDisposedException)
            {
                // A client that hangs up, refuses our certificate or stalls is the client's business.
            }
        }
    }

    private static async Task<LoopbackHttpRequest?> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new List<byte>();
        var one = new byte[4096];
        int end;
        while ((end = HeaderEnd(buffer)) < 0)
        {
            var n = await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false);
            if (n == 0 || buffer.Count > MaxHeaderBytes) return null;
            buffer.AddRange(one.AsSpan(0, n).ToArray());
        }
        var head = Encoding.ASCII.GetString(buffer.GetRange(0, end).ToArray());
        var lines = head.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length < 3) return null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var target = parts[1];
        var q = target.IndexOf('?');
        var path = Uri.UnescapeDataString(q < 0 ? target : target[..q]);
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (q >= 0)
        {
            foreach (var pair in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                var name = WebUtility.UrlDecode(eq < 0 ? pair : pair[..eq]);
                query[name] = eq < 0 ? "" : WebUtility.UrlDecode(pair[(eq + 1)..]);
            }
        }
        return new LoopbackHttpRequest(parts[0], path, query, headers);
    }

    private static int HeaderEnd(List<byte> b)
    {
        for (var i = 3; i < b.Count; i++)
            if (b[i - 3] == '\r' && b[i - 2] == '\n' && b[i - 1] == '\r' && b[i] == '\n') return i - 3;
        return -1;
    }

    private static async Task WriteResponseAsync(Stream stream, LoopbackHttpResponse response, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(response.Body);
        var head = new StringBuilder()
            .Append("HTTP/1.1 ").Append(response.Status).Append(' ').Append(response.Reason).Append("\r\n")
            .Append("Content-Type: ").Append(response.ContentType).Append("\r\n")
            .Append("Content-Length: ").Append(body.Length).Append("\r\n")
            .Append("Connection: close\r\n");
        foreach (var (name, value) in response.Headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _acceptLoop.ConfigureAwait(false); }
        catch (OperationCanceledException) { /* the loop ends this way when _stop is cancelled: the expected end */ }
        _stop.Dispose();
    }
}
