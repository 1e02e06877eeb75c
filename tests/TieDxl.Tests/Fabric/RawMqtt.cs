using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TieDxl.Tests.Fabric;

/// <summary>Hand-written MQTT 3.1.1 packets over TLS, for what MQTTnet's client refuses to send.</summary>
internal sealed class RawMqtt : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _ssl;

    private RawMqtt(TcpClient tcp, SslStream ssl)
    {
        _tcp = tcp;
        _ssl = ssl;
    }

    public static async Task<RawMqtt> OpenAsync(int port, X509Certificate2 clientCert)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = new X509CertificateCollection { clientCert },
            EnabledSslProtocols = SslProtocols.Tls12,
        });
        return new RawMqtt(tcp, ssl);
    }

    public Task SendConnectAsync(string clientId, bool cleanSession)
    {
        var body = new List<byte> { 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, (byte)(cleanSession ? 0x02 : 0x00), 0, 60 };
        AddString(body, clientId);
        return SendAsync(0x10, body);
    }

    public Task SendPublishAsync(string topic, byte[] payload)
    {
        var body = new List<byte>();
        AddString(body, topic);
        body.AddRange(payload);
        return SendAsync(0x30, body);
    }

    /// <summary>Reads up to <paramref name="max"/> bytes; an empty array means the broker closed the connection.</summary>
    public async Task<byte[]> ReadAsync(int max, TimeSpan timeout)
    {
        var buffer = new byte[max];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            int n = await _ssl.ReadAsync(buffer, cts.Token);
            return buffer.AsSpan(0, n).ToArray();
        }
        catch (IOException)
        {
            return Array.Empty<byte>();
        }
    }

    private static void AddString(List<byte> body, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        body.Add((byte)(bytes.Length >> 8));
        body.Add((byte)bytes.Length);
        body.AddRange(bytes);
    }

    private async Task SendAsync(byte header, List<byte> body)
    {
        var packet = new List<byte> { header };
        int len = body.Count;
        do
        {
            byte b = (byte)(len % 128);
            len /= 128;
            if (len > 0) b |= 0x80;
            packet.Add(b);
        } while (len > 0);
        packet.AddRange(body);
        await _ssl.WriteAsync(packet.ToArray());
        await _ssl.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _ssl.DisposeAsync();
        _tcp.Dispose();
    }
}
