using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace TieDxl.Fabric.Broker;

/// <summary>
/// Wraps MQTTnet's channel adapter to apply the OpenDXL broker's MQTT rules before MQTTnet sees a packet:
/// the client id becomes the connection's instance id (so equal ids never kick each other), clean-session=false
/// and publishes to wildcard topics close the connection, QoS&gt;0 and oversized publishes vanish unacknowledged.
/// </summary>
internal sealed class DxlChannelAdapter : IMqttChannelAdapter
{
    private readonly MqttChannelAdapter _inner;
    private readonly DxlConnection _connection;
    private readonly DxlFabricBroker _broker;

    public DxlChannelAdapter(MqttChannelAdapter inner, DxlConnection connection, DxlFabricBroker broker)
    {
        _inner = inner;
        _connection = connection;
        _broker = broker;
    }

    public long BytesReceived => _inner.BytesReceived;
    public long BytesSent => _inner.BytesSent;
    public X509Certificate2 ClientCertificate => _inner.ClientCertificate;
    public EndPoint RemoteEndPoint => _inner.RemoteEndPoint;
    public EndPoint LocalEndPoint => _inner.LocalEndPoint;
    // Always TLS here; MQTTnet would answer false because the channel's stream is the write-combining wrapper.
    public bool IsSecureConnection => true;
    public MqttPacketFormatterAdapter PacketFormatterAdapter => _inner.PacketFormatterAdapter;

    public Task ConnectAsync(CancellationToken cancellationToken) => _inner.ConnectAsync(cancellationToken);
    public Task DisconnectAsync(CancellationToken cancellationToken) => _inner.DisconnectAsync(cancellationToken);
    public void ResetStatistics() => _inner.ResetStatistics();
    public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken) => _inner.SendPacketAsync(packet, cancellationToken);
    public void Dispose() => _inner.Dispose();

    public async Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        // Each pass consumes one packet from the network, so the loop ends with the stream.
        while (true)
        {
            var packet = await _inner.ReceivePacketAsync(cancellationToken).ConfigureAwait(false);
            switch (packet)
            {
                case MqttConnectPacket connect:
                    if (!connect.CleanSession)
                    {
                        // "persistent sessions are not supported": closed without CONNACK (null = connection gone).
                        _broker.CountRefused();
                        return null!;
                    }
                    connect.ClientId = _connection.InstanceId;
                    // DXL clients set no will; a will would be published without the DXL stamping.
                    connect.WillFlag = false;
                    break;

                case MqttPublishPacket publish:
                    if (string.IsNullOrEmpty(publish.Topic) || publish.Topic.AsSpan().IndexOfAny('+', '#') >= 0)
                    {
                        // The broker closes the connection of a client publishing to a wildcard or empty topic.
                        return null!;
                    }
                    if (publish.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce)
                    {
                        // Discarded before reading, no PUBACK (the DXL build of the broker).
                        _broker.CountDropped();
                        continue;
                    }
                    if (publish.Payload.Length > _broker.Options.MessageSizeLimit)
                    {
                        _broker.CountDropped();
                        continue;
                    }
                    publish.Retain = false;
                    break;
            }
            return packet;
        }
    }
}
