using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;

namespace TieDxl.Fabric.Broker;

/// <summary>
/// Our own TLS listener for MQTTnet: MQTTnet's built-in one sets neither socket buffer sizes nor our client-CA
/// policy, and cannot tell us which certificate (and chain) each connection presented.
/// </summary>
internal sealed class DxlTlsServerAdapter : IMqttServerAdapter
{
    private readonly DxlFabricBroker _broker;
    private readonly SslStreamCertificateContext _serverContext;
    private readonly X509Certificate2Collection _anchors = new();
    private readonly X509Certificate2Collection _intermediates = new();
    private Socket? _listener;
    private CancellationTokenSource? _cts;
    private IMqttNetLogger _logger = MqttNetNullLogger.Instance;
    private Task _acceptLoop = Task.CompletedTask;

    public DxlTlsServerAdapter(DxlFabricBroker broker)
    {
        _broker = broker;
        var options = broker.Options;
        var cert = options.ServerCertificate ?? throw new ArgumentException("A server certificate is required.", nameof(broker));
        if (!cert.HasPrivateKey) throw new ArgumentException("The server certificate must have its private key.", nameof(broker));
        _serverContext = SslStreamCertificateContext.Create(cert, options.ServerCertificateChain, offline: true);
        foreach (var ca in options.ClientCertificateAuthorities)
        {
            if (ca.SubjectName.RawData.AsSpan().SequenceEqual(ca.IssuerName.RawData)) _anchors.Add(ca);
            else _intermediates.Add(ca);
        }
        if (_anchors.Count == 0) throw new ArgumentException("ClientCertificateAuthorities must contain at least one root CA.", nameof(broker));
    }

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public int Port { get; private set; }

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        if (_listener is not null) throw new InvalidOperationException("Already started.");
        _logger = logger;
        var o = _broker.Options;
        var socket = new Socket(o.BindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Accepted sockets inherit these on Linux; they are set again per connection to be sure.
            socket.ReceiveBufferSize = o.SocketBufferSize;
            socket.SendBufferSize = o.SocketBufferSize;
            socket.Bind(new IPEndPoint(o.BindAddress, o.Port));
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _listener = socket;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _cts = new CancellationTokenSource();
        var token = _cts.Token;
        _acceptLoop = Task.Run(() => AcceptLoopAsync(socket, token));
        return Task.CompletedTask;
    }

    public async Task StopAsync()
    {
        var cts = _cts;
        if (cts is null) return;
        _cts = null;
        cts.Cancel();
        _listener?.Dispose();
        _listener = null;
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loop only ends by cancellation or listener disposal; nothing to report.
        }
        cts.Dispose();
    }

    public void Dispose()
    {
        _cts?.Cancel();
        _listener?.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // Transient accept failure (e.g. a reset before accept): keep listening, without spinning.
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            _ = Task.Run(() => HandleConnectionAsync(client, token), CancellationToken.None);
        }
    }

    private async Task HandleConnectionAsync(Socket socket, CancellationToken token)
    {
        SslStream? ssl = null;
        DxlConnection? connection = null;
        try
        {
            socket.NoDelay = true;
            socket.ReceiveBufferSize = _broker.Options.SocketBufferSize;
            socket.SendBufferSize = _broker.Options.SocketBufferSize;
            var remote = socket.RemoteEndPoint;
            var local = socket.LocalEndPoint;
            ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            var peer = await AuthenticateClientAsync(ssl, token).ConfigureAwait(false);
            if (peer.Certificate is null) return;

            connection = new DxlConnection(peer.Certificate, peer.ChainThumbprints, remote);
            _broker.AddConnection(connection);
            if (ClientHandler is { } handler)
                await ServeMqttAsync(handler, ssl, connection, peer.Certificate, local, remote).ConfigureAwait(false);
        }
        catch (Exception ex) when (connection is null)
        {
            // TLS refused (no certificate, unknown CA, handshake timeout) or the peer went away early.
            _broker.CountRefused();
            _broker.Log($"connection refused: {ex.GetType().Name}: {ex.Message}");
        }
        catch (Exception ex)
        {
            _broker.Log($"connection {connection!.InstanceId} failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            if (connection is not null) await _broker.RemoveConnectionAsync(connection).ConfigureAwait(false);
            if (ssl is not null) await CloseQuietlyAsync(ssl).ConfigureAwait(false);
            socket.Dispose();
        }
    }

    /// <summary>The TLS handshake, a client certificate required and checked against the fabric's CAs, within the handshake timeout.</summary>
    private async Task<PeerValidation> AuthenticateClientAsync(SslStream ssl, CancellationToken token)
    {
        var peer = new PeerValidation(_anchors, _intermediates);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(token);
        handshake.CancelAfter(_broker.Options.HandshakeTimeout);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = _serverContext,
            ClientCertificateRequired = true,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            EncryptionPolicy = EncryptionPolicy.RequireEncryption,
            RemoteCertificateValidationCallback = peer.Validate,
        }, handshake.Token).ConfigureAwait(false);
        return peer;
    }

    /// <summary>Hands the authenticated stream to MQTTnet's server, through the adapter that applies the DXL rules.</summary>
    private async Task ServeMqttAsync(Func<IMqttChannelAdapter, Task> handler, SslStream ssl, DxlConnection connection,
        X509Certificate2 certificate, EndPoint? local, EndPoint? remote)
    {
        var channel = new MqttTcpChannel(new CoalescingWriteStream(ssl), local, remote, certificate);
        var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(8192, 65536));
        using var inner = new MqttChannelAdapter(channel, formatter, _logger) { AllowPacketFragmentation = false };
        using var adapter = new DxlChannelAdapter(inner, connection, _broker);
        await handler(adapter).ConfigureAwait(false);
    }

    private static async Task CloseQuietlyAsync(SslStream ssl)
    {
        try
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing a broken TLS stream may throw; the socket is closed regardless afterwards.
        }
    }

    /// <summary>Validates one client's certificate against the fabric's CAs only (never the OS store).</summary>
    private sealed class PeerValidation
    {
        private readonly X509Certificate2Collection _anchors;
        private readonly X509Certificate2Collection _intermediates;

        public PeerValidation(X509Certificate2Collection anchors, X509Certificate2Collection intermediates)
        {
            _anchors = anchors;
            _intermediates = intermediates;
        }

        public X509Certificate2? Certificate { get; private set; }
        public IReadOnlyList<string> ChainThumbprints { get; private set; } = Array.Empty<string>();

        public bool Validate(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
        {
            if (certificate is null) return false;
            var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_anchors);
            chain.ChainPolicy.ExtraStore.AddRange(_intermediates);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (presented is not null)
            {
                // Intermediates the client sent along with its certificate.
                foreach (var element in presented.ChainElements)
                {
                    if (!ReferenceEquals(element.Certificate, leaf)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
            if (!chain.Build(leaf)) return false;
            var thumbprints = new string[chain.ChainElements.Count];
            for (int i = 0; i < thumbprints.Length; i++)
            {
                // ChainElements runs leaf to root; dxl.certs lists root first, leaf last, as the OpenDXL broker stamps it.
                thumbprints[thumbprints.Length - 1 - i] = DxlConnection.Thumbprint(chain.ChainElements[i].Certificate);
            }
            Certificate = leaf;
            ChainThumbprints = thumbprints;
            return true;
        }
    }
}
