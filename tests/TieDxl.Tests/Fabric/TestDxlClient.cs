using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Formatter;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;

namespace TieDxl.Tests.Fabric;

/// <summary>A raw MQTTnet client speaking DXL through the envelope codec, for broker tests.</summary>
internal sealed class TestDxlClient : IAsyncDisposable
{
    private readonly IMqttClient _mqtt;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DxlMessage>> _pending = new();

    private TestDxlClient(IMqttClient mqtt, string clientId)
    {
        _mqtt = mqtt;
        ClientId = clientId;
        _mqtt.ApplicationMessageReceivedAsync += e =>
        {
            var payload = e.ApplicationMessage.Payload.ToArray();
            if (RecordRaw) Raw.Writer.TryWrite((e.ApplicationMessage.Topic, payload));
            if (DxlEnvelope.TryDecode(new System.Buffers.ReadOnlySequence<byte>(payload), e.ApplicationMessage.Topic, out var m) && m is not null)
            {
                if (m is DxlResponse r && r.RequestMessageId is { } id && _pending.TryRemove(id, out var tcs)) tcs.TrySetResult(r);
                else if (m is DxlRequest req && Answer is { } answer)
                {
                    Served.Enqueue(req);
                    // Publish off MQTTnet's receive callback.
                    _ = Task.Run(() => PublishAsync(new DxlResponse(req, answer(req))));
                }
                else Received.Writer.TryWrite(m);
            }
            return Task.CompletedTask;
        };
    }

    public string ClientId { get; }
    public string ReplyTopic => "/mcafee/client/" + ClientId;
    public bool IsConnected => _mqtt.IsConnected;

    /// <summary>Every decoded message that is not an awaited response.</summary>
    public Channel<DxlMessage> Received { get; } = Channel.CreateUnbounded<DxlMessage>();

    /// <summary>When true, every publish is also written to <see cref="Raw"/>.</summary>
    public bool RecordRaw { get; set; }

    /// <summary>Every publish as raw bytes (when <see cref="RecordRaw"/>).</summary>
    public Channel<(string Topic, byte[] Payload)> Raw { get; } = Channel.CreateUnbounded<(string, byte[])>();

    public static MqttClientOptions Options(int port, X509Certificate2? clientCert, X509Certificate2 brokerCa, string clientId, bool cleanSession = true) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(clientId)
            .WithCleanSession(cleanSession)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithoutPacketFragmentation()
            .WithTlsOptions(o =>
            {
                o.UseTls().WithSslProtocols(SslProtocols.Tls12)
                    .WithCertificateValidationHandler(args => ValidateBroker(args.Certificate, brokerCa));
                if (clientCert is not null) o.WithClientCertificates(new[] { clientCert });
            })
            .Build();

    private static bool ValidateBroker(X509Certificate? cert, X509Certificate2 ca)
    {
        if (cert is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(cert as X509Certificate2 ?? new X509Certificate2(cert));
    }

    public static async Task<TestDxlClient> ConnectAsync(int port, X509Certificate2 clientCert, X509Certificate2 brokerCa)
    {
        var id = DxlMessage.NewId();
        var mqtt = new MqttClientFactory().CreateMqttClient();
        var client = new TestDxlClient(mqtt, id);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await mqtt.ConnectAsync(Options(port, clientCert, brokerCa, id), cts.Token);
        await client.SubscribeAsync(client.ReplyTopic);
        return client;
    }

    public async Task SubscribeAsync(string topic)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _mqtt.SubscribeAsync(topic, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, cts.Token);
    }

    public async Task UnsubscribeAsync(string topic)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _mqtt.UnsubscribeAsync(topic, cts.Token);
    }

    public Task PublishRawAsync(string topic, byte[] payload, MQTTnet.Protocol.MqttQualityOfServiceLevel qos = MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce) =>
        _mqtt.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).Build());

    public Task PublishAsync(DxlMessage message) => PublishRawAsync(message.DestinationTopic, DxlEnvelope.Encode(message));

    /// <summary>Sends a request and waits for the response or error response with its id.</summary>
    public async Task<DxlMessage> RequestAsync(DxlRequest request, TimeSpan? timeout = null)
    {
        request.ReplyToTopic = ReplyTopic;
        var tcs = new TaskCompletionSource<DxlMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[request.MessageId!] = tcs;
        await PublishAsync(request);
        try
        {
            return await tcs.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no response to {request.DestinationTopic} {request.MessageId}");
        }
        finally
        {
            _pending.TryRemove(request.MessageId!, out _);
        }
    }

    /// <summary>Waits for the next received message matching <paramref name="match"/>, skipping others.</summary>
    public async Task<T> NextAsync<T>(Func<T, bool>? match = null, TimeSpan? timeout = null) where T : DxlMessage
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var m = await Received.Reader.ReadAsync(cts.Token);
            if (m is T t && (match is null || match(t))) return t;
        }
    }

    /// <summary>True if nothing matching arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> NothingAsync(Func<DxlMessage, bool> match, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var m = await Received.Reader.ReadAsync(cts.Token);
                if (match(m)) return false;
            }
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>When set, requests are answered with its result (and recorded in <see cref="Served"/>).</summary>
    public Func<DxlRequest, byte[]>? Answer { get; set; }

    /// <summary>Requests answered through <see cref="Answer"/>.</summary>
    public ConcurrentQueue<DxlRequest> Served { get; } = new();

    /// <summary>Subscribes to the topics and registers a service for them; returns its GUID.</summary>
    public async Task<string> RegisterServiceAsync(string serviceType, string[] topics, string? serviceGuid = null, int ttlMins = 60)
    {
        foreach (var t in topics) await SubscribeAsync(t);
        serviceGuid ??= DxlMessage.NewId();
        var json = "{\"serviceType\": \"" + serviceType + "\", \"metaData\": {\"owner\": \"tests\"}, \"requestChannels\": [" +
                   string.Join(", ", topics.Select(t => "\"" + t + "\"")) + "], \"ttlMins\": " + ttlMins + ", \"serviceGuid\": \"" + serviceGuid + "\"}";
        var ack = await RequestAsync(new DxlRequest(DxlTopics.ServiceRegister, System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.IsType<DxlResponse>(ack);
        return serviceGuid;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_mqtt.IsConnected) await _mqtt.DisconnectAsync();
        }
        catch (Exception)
        {
            // Already gone.
        }
        Received.Writer.TryComplete();
        _mqtt.Dispose();
    }
}
