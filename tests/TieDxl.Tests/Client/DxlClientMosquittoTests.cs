using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using MQTTnet;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Tests.Client;

/// <summary>The DXL client against a real mosquitto over mutual TLS (plain MQTT: no DXL registry or routing).</summary>
public sealed class DxlClientMosquittoTests(MosquittoEnvironment env) : IClassFixture<MosquittoEnvironment>
{
    private static DxlService EchoService(string topic) =>
        new DxlService("/tiedxl/test/echo").AddHandler(topic, (request, _) =>
            ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, request.Payload)));

    private static string UniqueTopic(string name) => $"/tiedxl/test/{name}/{Guid.NewGuid():N}";

    [Fact]
    public async Task RequestIsAnsweredByAServiceHostedOnASecondClient()
    {
        var topic = UniqueTopic("echo");
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(EchoService(topic));
        await using var client = await env.ConnectAsync();

        var response = await client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("héllo")), TimeSpan.FromSeconds(10));

        Assert.Equal("héllo", response.PayloadText);
        Assert.Equal(client.ReplyTopic, response.DestinationTopic);
        Assert.Equal(DxlMessageType.Response, response.MessageType);
    }

    [Fact]
    public async Task ManyConcurrentRequestsOnOneConnectionAreEachMatchedToTheirResponse()
    {
        var topic = UniqueTopic("echo");
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(EchoService(topic));
        await using var client = await env.ConnectAsync();

        var tasks = Enumerable.Range(0, 500).Select(async i =>
        {
            var response = await client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes($"n{i}")), TimeSpan.FromSeconds(20));
            return (i, response.PayloadText);
        }).ToArray();
        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.Equal($"n{r.i}", r.PayloadText));
        Assert.Equal(0, client.PendingRequestCount);
    }

    [Fact]
    public async Task CancellingRequestsMidWriteLeavesTheSharedConnectionIntact()
    {
        // Ctrl+C on a bulk cmdlet cancels hundreds of requests while their envelopes are being written. A write
        // aborted half-way leaves half a TLS record on the connection every other request shares.
        var topic = UniqueTopic("echo");
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(EchoService(topic));
        await using var client = await env.ConnectAsync();
        var states = new ConcurrentQueue<DxlConnectionState>();
        client.StateChanged += (_, state) => states.Enqueue(state);
        var payload = new byte[200_000];

        var cancelled = 0;
        for (var round = 0; round < 8; round++)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(2 + round * 3));
            var requests = Enumerable.Range(0, 100)
                .Select(_ => client.RequestAsync(new DxlRequest(topic, payload), TimeSpan.FromSeconds(30), stop.Token))
                .ToArray();
            foreach (var request in requests)
            {
                try { await request; }
                catch (OperationCanceledException) { cancelled++; }
            }
        }

        Assert.True(cancelled > 0, "no request was cancelled: the test did not exercise a cancelled write");
        // Generous: the abandoned writes (up to 160 MB of echo traffic) still go out ahead of this request.
        var response = await client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("still here")), TimeSpan.FromSeconds(60));
        Assert.Equal("still here", response.PayloadText);
        Assert.Empty(states);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task ReceivedPayloadsStayIntactAfterLaterMessagesArrive()
    {
        // The client decodes received messages without copying their payloads, which is right only while MQTTnet
        // gives every message an array of its own. Were it to reuse a receive buffer, the early payloads read last
        // here would show the bytes of later messages.
        var root = UniqueTopic("intact");
        await using var listener = await env.ConnectAsync();
        var received = new ConcurrentQueue<DxlEvent>();
        await using var subscription = await listener.SubscribeAsync(root + "/#", e => { received.Enqueue(e); return Task.CompletedTask; });
        await using var sender = await env.ConnectAsync();
        const int count = 300;
        static byte[] Body(int i) => Enumerable.Range(0, 1500).Select(j => (byte)(i * 7 + j)).ToArray();
        for (var i = 0; i < count; i++)
            await sender.SendEventAsync(new DxlEvent($"{root}/{i}", Body(i)));
        await WaitUntil(() => received.Count >= count);

        // The topic names the message; the payload must still be that message's own.
        Assert.All(received, e => Assert.True(Body(int.Parse(e.DestinationTopic[(root.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .AsSpan().SequenceEqual(e.PayloadMemory.Span), e.DestinationTopic));
    }

    [Fact]
    public async Task AServiceErrorBecomesATypedException()
    {
        var topic = UniqueTopic("failing");
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/test/failing").AddHandler(topic,
            (request, _) => ValueTask.FromResult<DxlResponse?>(new DxlErrorResponse(request, 0x80000001, "unable to locate service for request"))));
        await using var client = await env.ConnectAsync();

        var error = await Assert.ThrowsAsync<DxlErrorResponseException>(() => client.RequestAsync(new DxlRequest(topic), TimeSpan.FromSeconds(10)));

        Assert.True(error.IsServiceNotFound);
        Assert.Equal(0x80000001u, error.Code);
    }

    [Fact]
    public async Task AHandlerExceptionIsAnsweredAsErrorCodeZero()
    {
        var topic = UniqueTopic("throwing");
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/test/throwing").AddHandler(topic,
            (_, _) => throw new InvalidOperationException("Could not find reputation")));
        await using var client = await env.ConnectAsync();

        var error = await Assert.ThrowsAsync<DxlErrorResponseException>(() => client.RequestAsync(new DxlRequest(topic), TimeSpan.FromSeconds(10)));

        Assert.Equal(0u, error.Code);
        Assert.Equal("Could not find reputation", error.ErrorMessage);
    }

    [Fact]
    public async Task ARequestWithNoServiceTimesOutCleanlyOnPlainMqtt()
    {
        await using var client = await env.ConnectAsync();
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<DxlTimeoutException>(() =>
            client.RequestAsync(new DxlRequest(UniqueTopic("nobody")), TimeSpan.FromMilliseconds(500)));

        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5));
        Assert.Contains("authorised", error.Message);
        Assert.Equal(0, client.PendingRequestCount);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task EventsReachExactAndWildcardSubscribersAndUnsubscribeCountsReferences()
    {
        var root = UniqueTopic("events");
        await using var subscriber = await env.ConnectAsync();
        await using var publisher = await env.ConnectAsync();
        var exact = new ConcurrentQueue<string>();
        var wild = new ConcurrentQueue<string>();
        var second = new ConcurrentQueue<string>();
        var exactSub = await subscriber.SubscribeAsync(root + "/a", e => { exact.Enqueue(e.PayloadText); return Task.CompletedTask; });
        var wildSub = await subscriber.SubscribeAsync(root + "/#", e => { wild.Enqueue(e.DestinationTopic); return Task.CompletedTask; });
        var secondSub = await subscriber.SubscribeAsync(root + "/a", e => { second.Enqueue(e.PayloadText); return Task.CompletedTask; });

        await publisher.SendEventAsync(new DxlEvent(root + "/a", Encoding.UTF8.GetBytes("one")));
        await publisher.SendEventAsync(new DxlEvent(root + "/b/c", Encoding.UTF8.GetBytes("two")));
        await WaitUntil(() => exact.Count >= 1 && wild.Count >= 2 && second.Count >= 1);

        Assert.Contains("one", exact);
        Assert.Contains(root + "/b/c", wild);

        // One of two callbacks on the topic goes: the other still receives.
        await exactSub.DisposeAsync();
        await publisher.SendEventAsync(new DxlEvent(root + "/a", Encoding.UTF8.GetBytes("three")));
        await WaitUntil(() => second.Contains("three"));
        Assert.DoesNotContain("three", exact);

        await secondSub.DisposeAsync();
        await wildSub.DisposeAsync();
    }

    [Fact]
    public async Task MalformedEnvelopesAreDroppedAndTheClientCarriesOn()
    {
        var topic = UniqueTopic("echo");
        var logs = new ConcurrentQueue<string>();
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(EchoService(topic));
        await using var client = await env.ConnectAsync((level, message) => logs.Enqueue($"{level}: {message}"));
        await using var raw = await env.ConnectAsync();

        // Garbage straight onto the client's reply topic, bypassing the envelope encoder.
        using var mqtt = new MqttClientFactory().CreateMqttClient();
        var junk = new byte[][] { [0xff, 0x00, 0x13], [], [0x02, 0x01, 0xdb, 0x7f, 0xff, 0xff, 0xff], Encoding.UTF8.GetBytes("{\"not\":\"dxl\"}") };
        await PublishRawAsync(client.ReplyTopic, junk);

        var response = await client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("still fine")), TimeSpan.FromSeconds(10));
        Assert.Equal("still fine", response.PayloadText);
        await WaitUntil(() => logs.Count(l => l.Contains("malformed")) >= junk.Length);
    }

    [Fact]
    public async Task AnEnvelopeOverTheBrokerLimitIsRefusedBeforeSending()
    {
        await using var client = await env.ConnectAsync();
        var error = await Assert.ThrowsAsync<DxlPayloadTooLargeException>(() =>
            client.SendEventAsync(new DxlEvent(UniqueTopic("big"), new byte[DxlClient.MaxMessageSize])));
        Assert.Equal(DxlClient.MaxMessageSize, error.Limit);
        Assert.True(client.IsConnected);
    }

    private async Task PublishRawAsync(string topic, IEnumerable<byte[]> payloads)
    {
        // A second DxlClient's connection is not reachable from here, so use MQTTnet directly with the test PKI.
        var config = env.NewConfig();
        using var mqtt = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", env.Broker.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .WithTlsOptions(t => t.UseTls()
                .WithClientCertificates(new[] { config.GetClientCertificate() })
                .WithTrustChain(config.GetBrokerCaCertificates())
                .WithRevocationMode(System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck)
                .WithCertificateValidationHandler(_ => true))
            .Build();
        await mqtt.ConnectAsync(options);
        foreach (var payload in payloads)
            await mqtt.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).Build());
        await mqtt.DisconnectAsync();
    }

    internal static async Task WaitUntil(Func<bool> condition, int timeoutMs = 10_000)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("condition not met in time");
            await Task.Delay(20);
        }
    }
}
