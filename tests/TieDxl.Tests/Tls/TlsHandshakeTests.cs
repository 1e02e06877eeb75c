using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl.Tls;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Config;

namespace TieDxl.Tests.Tls;

/// <summary>Real TLS 1.2 handshakes over loopback: PKI certificates, loaded client keys and the validator as callback.</summary>
public class TlsHandshakeTests : IClassFixture<TestPkiFixture>, IDisposable
{
    private readonly TestPkiFixture _pki;
    private readonly TempFolder _dir = new();

    public TlsHandshakeTests(TestPkiFixture pki) => _pki = pki;

    public void Dispose() => _dir.Dispose();

    private static async Task<string?> Handshake(DxlTestPki serverPki, X509Certificate2 serverCert, X509Certificate2 clientCert,
        X509Certificate2Collection clientTrust, string targetHost, bool strict)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverValidator = new DxlServerCertificateValidator(serverPki.CaCertificates, false);

        var serverTask = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            using var ssl = new SslStream(socket.GetStream(), false);
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = serverCert,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = SslProtocols.Tls12,
                    RemoteCertificateValidationCallback = (_, c, ch, e) => c is X509Certificate2 c2 && serverValidator.Check(c2, ch, "", e) is null,
                });
                var b = new byte[1];
                await ssl.ReadExactlyAsync(b);
                await ssl.WriteAsync(b);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                // The refused handshakes end here on the server side; the client side's reason is what the test checks.
            }
        });

        string? reason = null;
        var validator = new DxlServerCertificateValidator(clientTrust, strict);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            using var clientSsl = new SslStream(client.GetStream(), false);
            try
            {
                await clientSsl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = targetHost,
                    ClientCertificates = new X509CertificateCollection { clientCert },
                    EnabledSslProtocols = SslProtocols.Tls12,
                    RemoteCertificateValidationCallback = (_, c, ch, e) =>
                    {
                        reason = c is X509Certificate2 c2 ? validator.Check(c2, ch, targetHost, e) : "no certificate";
                        return reason is null;
                    },
                });
                await clientSsl.WriteAsync(new byte[] { 42 });
                var echo = new byte[1];
                await clientSsl.ReadExactlyAsync(echo);
                Assert.Equal(42, echo[0]);
            }
            catch (AuthenticationException)
            {
                Assert.NotNull(reason);
            }
        }
        await serverTask.WaitAsync(TimeSpan.FromSeconds(10));
        return reason;
    }

    [Theory]
    [InlineData(DxlTestKeyAlgorithm.EcdsaP256, DxlTestKeyFormat.Sec1Ec)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048, DxlTestKeyFormat.Pkcs1Rsa)]
    [InlineData(DxlTestKeyAlgorithm.Rsa2048, DxlTestKeyFormat.EncryptedPkcs8)]
    public async Task ConnectsWithALoadedClientCertificate(DxlTestKeyAlgorithm algorithm, DxlTestKeyFormat format)
    {
        var pki = algorithm == DxlTestKeyAlgorithm.Rsa2048 ? _pki.Rsa : _pki.Ec;
        var cert = _dir.Combine("c.crt");
        var key = _dir.Combine("c.key");
        pki.Client.WriteCertificate(cert);
        pki.Client.WritePrivateKey(key, format, "pw");
        using var loaded = DxlCertificates.LoadClientCertificate(cert, key, "pw");
        Assert.Null(await Handshake(pki, pki.Broker.Certificate, loaded, pki.CaCertificates, "127.0.0.1", strict: true));
    }

    [Fact]
    public async Task NameMismatchConnectsUnlessStrict()
    {
        var pki = _pki.Ec;
        Assert.Null(await Handshake(pki, pki.Broker.Certificate, pki.Client.Certificate, pki.CaCertificates, "broker.example.com", strict: false));
        var reason = await Handshake(pki, pki.Broker.Certificate, pki.Client.Certificate, pki.CaCertificates, "broker.example.com", strict: true);
        Assert.Contains("does not match host name broker.example.com", reason);
    }

    [Fact]
    public async Task UnknownCaIsRefusedInTheHandshake()
    {
        var pki = _pki.Ec;
        var reason = await Handshake(pki, pki.Broker.Certificate, pki.Client.Certificate, _pki.Other.CaCertificates, "localhost", strict: false);
        Assert.Contains("not signed by a CA in the configured bundle", reason);
    }

    [Fact]
    public async Task ExpiredBrokerIsRefusedInTheHandshake()
    {
        var pki = _pki.Ec;
        using var expired = pki.IssueBroker(validity: DxlTestValidity.Expired);
        var reason = await Handshake(pki, expired.Certificate, pki.Client.Certificate, pki.CaCertificates, "localhost", strict: false);
        Assert.Contains("the broker's certificate expired on", reason);
    }
}
