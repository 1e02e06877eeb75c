using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using TieDxl.Fabric.Broker;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Tests.Fabric;

public class DxlFabricBrokerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output = output;

    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task RequestsAreSpreadOverTwoInstancesAndEachIsAnsweredOnce()
    {
        await using var fabric = await TestFabric.StartAsync();
        var requester = await fabric.ConnectAsync("requester");
        var a = await fabric.ConnectAsync("service-a");
        var b = await fabric.ConnectAsync("service-b");
        a.Answer = _ => "a"u8.ToArray();
        b.Answer = _ => "b"u8.ToArray();
        var guidA = await a.RegisterServiceAsync("/test/echo", new[] { "/test/echo/run" });
        var guidB = await b.RegisterServiceAsync("/test/echo", new[] { "/test/echo/run" });

        const int n = 40;
        var tasks = new List<Task<DxlMessage>>();
        for (int i = 0; i < n; i++) tasks.Add(requester.RequestAsync(new DxlRequest("/test/echo/run", Encoding.UTF8.GetBytes("{\"i\":" + i + "}"))));
        var responses = await Task.WhenAll(tasks);

        Assert.All(responses, r => Assert.IsType<DxlResponse>(r));
        Assert.Equal(n, responses.Select(r => ((DxlResponse)r).RequestMessageId).Distinct().Count());
        // Round-robin: both instances served, every request reached exactly one of them.
        Assert.Equal(n, a.Served.Count + b.Served.Count);
        Assert.InRange(a.Served.Count, 1, n - 1);
        Assert.Equal(n, a.Served.Concat(b.Served).Select(r => r.MessageId).Distinct().Count());
        Assert.All(a.Served, r => Assert.Equal(guidA, r.ServiceId));
        Assert.All(b.Served, r => Assert.Equal(guidB, r.ServiceId));
        var served = a.Served.First();
        Assert.Equal(3, served.Version);
        Assert.Equal(new[] { fabric.Broker.BrokerGuid }, served.BrokerIds);
        Assert.Single(served.ClientIds);
        Assert.Equal(fabric.Broker.Connections.Single(c => c.Certificate.Subject == "CN=service-a").InstanceId, served.ClientIds[0]);
        // No stray duplicate responses afterwards.
        Assert.True(await requester.NothingAsync(m => m is DxlResponse, Quiet));
    }

    [Fact]
    public async Task ManyRequestsInFlightAreEachAnsweredExactlyOnce()
    {
        await using var fabric = await TestFabric.StartAsync();
        var requester = await fabric.ConnectAsync("requester");
        var a = await fabric.ConnectAsync("service-a");
        var b = await fabric.ConnectAsync("service-b");
        a.Answer = r => r.Payload;
        b.Answer = r => r.Payload;
        await a.RegisterServiceAsync("/test/load", new[] { "/test/load/run" });
        await b.RegisterServiceAsync("/test/load", new[] { "/test/load/run" });

        const int total = 1000, inFlight = 64;
        int next = -1, answered = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var workers = Enumerable.Range(0, inFlight).Select(async _ =>
        {
            for (int i = Interlocked.Increment(ref next); i < total; i = Interlocked.Increment(ref next))
            {
                var payload = Encoding.UTF8.GetBytes("{\"n\":" + i + "}");
                var reply = Assert.IsType<DxlResponse>(await requester.RequestAsync(new DxlRequest("/test/load/run", payload), TimeSpan.FromSeconds(60)));
                Assert.Equal(payload, reply.Payload);
                Interlocked.Increment(ref answered);
            }
        });
        await Task.WhenAll(workers);
        _output.WriteLine($"{total} requests, {inFlight} in flight: {total / watch.Elapsed.TotalSeconds:0} req/s (shared machine, indicative only)");
        Assert.Equal(total, answered);
        Assert.Equal(total, a.Served.Count + b.Served.Count);
        Assert.Equal(total, a.Served.Concat(b.Served).Select(r => r.MessageId).Distinct().Count());
        Assert.True(await requester.NothingAsync(m => m is DxlResponse, Quiet));
    }

    [Fact]
    public async Task RequestWithoutServiceGetsTheBrokersNotFoundError()
    {
        await using var fabric = await TestFabric.StartAsync();
        var requester = await fabric.ConnectAsync("requester");
        var request = new DxlRequest("/test/nobody/home", "{}"u8.ToArray());
        var reply = await requester.RequestAsync(request);

        var error = Assert.IsType<DxlErrorResponse>(reply);
        var self = fabric.Broker.Connections.Single();
        var guid = fabric.Broker.BrokerGuid;
        Assert.Equal(3, error.Version);
        Assert.Equal(DxlErrorCodes.ServiceNotFound, error.Code);
        Assert.Equal(-2147483647L, error.ErrorCode);
        Assert.Equal("unable to locate service for request", error.ErrorMessage);
        Assert.Equal(request.MessageId, error.RequestMessageId);
        Assert.Equal("", error.ServiceId);
        Assert.Equal(guid, error.SourceClientId);
        Assert.Equal(guid, error.SourceBrokerId);
        Assert.Equal(guid, error.SourceClientInstanceId);
        Assert.Equal(new[] { guid }, error.BrokerIds);
        Assert.Equal(new[] { self.InstanceId }, error.ClientIds);
        Assert.Empty(error.Payload);
        Assert.Empty(error.OtherFields);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", error.MessageId);
        Assert.Equal(requester.ReplyTopic, error.DestinationTopic);

        // A service id that is not registered gets the same error, naming that id.
        var named = new DxlRequest("/test/nobody/home", "{}"u8.ToArray()) { ServiceId = "{00000000-0000-4000-8000-000000000000}" };
        var error2 = Assert.IsType<DxlErrorResponse>(await requester.RequestAsync(named));
        Assert.Equal("{00000000-0000-4000-8000-000000000000}", error2.ServiceId);
    }

    [Fact]
    public async Task ErrorBytesMatchTheBrokerVectorLayout()
    {
        // Same layout as error_response_v3_broker_service_not_found: re-encoding the received error with the
        // vector's identifiers must give the vector's bytes.
        await using var fabric = await TestFabric.StartAsync(o => o.BrokerGuid = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d");
        var requester = await fabric.ConnectAsync("requester");
        var error = Assert.IsType<DxlErrorResponse>(await requester.RequestAsync(new DxlRequest("/x/y", "{}"u8.ToArray())));
        using var doc = TieDxl.Tests.Envelope.DxlVectors.Load("error_response_v3_broker_service_not_found");
        var f = doc.RootElement.GetProperty("fields");
        error.MessageId = f.GetProperty("message_id").GetString();
        error.RequestMessageId = f.GetProperty("request_message_id").GetString();
        error.ClientIds = new List<string> { f.GetProperty("client_ids")[0].GetString()! };
        Assert.Equal(doc.RootElement.GetProperty("encoded_hex").GetString(), Convert.ToHexString(DxlEnvelope.Encode(error)).ToLowerInvariant());
    }

    [Fact]
    public async Task RegisterQueryUnregisterAndEvents()
    {
        await using var fabric = await TestFabric.StartAsync();
        var watcher = await fabric.ConnectAsync("watcher");
        await watcher.SubscribeAsync(DxlTopics.ServiceRegisteredEvent);
        await watcher.SubscribeAsync(DxlTopics.ServiceUnregisteredEvent);
        var service = await fabric.ConnectAsync("service");
        var guid = await service.RegisterServiceAsync("/test/svc", new[] { "/test/svc/a", "/test/svc/b" });
        var self = fabric.Broker.Connections.Single(c => c.Certificate.Subject == "CN=service");

        var registered = await watcher.NextAsync<DxlEvent>(e => e.DestinationTopic == DxlTopics.ServiceRegisteredEvent);
        Assert.Equal(3, registered.Version);
        Assert.EndsWith("\n", registered.PayloadText);
        using (var record = JsonDocument.Parse(registered.Payload))
        {
            var r = record.RootElement;
            Assert.Equal(guid, r.GetProperty("serviceGuid").GetString());
            Assert.Equal("/test/svc", r.GetProperty("serviceType").GetString());
            Assert.Equal(self.CanonicalId, r.GetProperty("clientGuid").GetString());
            Assert.Equal(self.InstanceId, r.GetProperty("clientInstanceGuid").GetString());
            Assert.Equal(fabric.Broker.BrokerGuid, r.GetProperty("brokerGuid").GetString());
            Assert.Equal(new[] { "/test/svc/a", "/test/svc/b" }, r.GetProperty("requestChannels").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("tests", r.GetProperty("metaData").GetProperty("owner").GetString());
            Assert.False(r.TryGetProperty("local", out _));
        }

        var query = Assert.IsType<DxlResponse>(await watcher.RequestAsync(new DxlRequest(DxlTopics.ServiceQuery, "{}"u8.ToArray())));
        Assert.Equal(3, query.Version);
        Assert.EndsWith("}\n", query.PayloadText);
        using (var q = JsonDocument.Parse(query.Payload))
        {
            var entry = q.RootElement.GetProperty("services").GetProperty(guid);
            Assert.Equal(60, entry.GetProperty("ttlMins").GetInt32());
            Assert.True(entry.GetProperty("local").GetBoolean());
        }
        var byType = Assert.IsType<DxlResponse>(await watcher.RequestAsync(new DxlRequest(DxlTopics.ServiceQuery, "{\"serviceType\": \"/other\"}"u8.ToArray())));
        Assert.Equal("{\"services\":{}}\n", byType.PayloadText);

        // Someone else cannot unregister it.
        var other = Assert.IsType<DxlResponse>(await watcher.RequestAsync(new DxlRequest(DxlTopics.ServiceUnregister, Encoding.UTF8.GetBytes("{\"serviceGuid\": \"" + guid + "\"}"))));
        Assert.Empty(other.Payload);
        Assert.Equal(1, fabric.Broker.ServiceCount);

        var ack = Assert.IsType<DxlResponse>(await service.RequestAsync(new DxlRequest(DxlTopics.ServiceUnregister, Encoding.UTF8.GetBytes("{\"serviceGuid\": \"" + guid + "\"}"))));
        Assert.Empty(ack.Payload);
        var unregistered = await watcher.NextAsync<DxlEvent>(e => e.DestinationTopic == DxlTopics.ServiceUnregisteredEvent);
        Assert.Equal("{\"serviceGuid\":\"" + guid + "\"}\n", unregistered.PayloadText);
        Assert.Equal(0, fabric.Broker.ServiceCount);
        var none = Assert.IsType<DxlErrorResponse>(await watcher.RequestAsync(new DxlRequest("/test/svc/a", "{}"u8.ToArray())));
        Assert.Equal(DxlErrorCodes.ServiceNotFound, none.Code);
    }

    [Fact]
    public async Task DisconnectRemovesTheConnectionsServices()
    {
        await using var fabric = await TestFabric.StartAsync();
        var watcher = await fabric.ConnectAsync("watcher");
        await watcher.SubscribeAsync(DxlTopics.ServiceUnregisteredEvent);
        var service = await fabric.ConnectAsync("service");
        var guid = await service.RegisterServiceAsync("/test/svc", new[] { "/test/svc/a" });
        await service.DisposeAsync();
        var ev = await watcher.NextAsync<DxlEvent>(e => e.DestinationTopic == DxlTopics.ServiceUnregisteredEvent);
        Assert.Contains(guid, ev.PayloadText);
        Assert.Equal(0, fabric.Broker.ServiceCount);
    }

    [Fact]
    public async Task WildcardServicesAreFoundMostSpecificFirst()
    {
        await using var fabric = await TestFabric.StartAsync();
        var requester = await fabric.ConnectAsync("requester");
        var broad = await fabric.ConnectAsync("broad");
        var narrow = await fabric.ConnectAsync("narrow");
        broad.Answer = _ => "broad"u8.ToArray();
        narrow.Answer = _ => "narrow"u8.ToArray();
        await broad.RegisterServiceAsync("/w", new[] { "/w/#" });
        await narrow.RegisterServiceAsync("/w/x", new[] { "/w/x/#" });
        Assert.Equal("narrow", ((DxlResponse)await requester.RequestAsync(new DxlRequest("/w/x/y", "{}"u8.ToArray()))).PayloadText);
        Assert.Equal("broad", ((DxlResponse)await requester.RequestAsync(new DxlRequest("/w/z", "{}"u8.ToArray()))).PayloadText);
        Assert.Equal(DxlErrorCodes.ServiceNotFound, Assert.IsType<DxlErrorResponse>(await requester.RequestAsync(new DxlRequest("/v/z", "{}"u8.ToArray()))).Code);
    }

    [Fact]
    public async Task ServiceNotFoundErrorFromAServiceUnregistersIt()
    {
        await using var fabric = await TestFabric.StartAsync();
        var requester = await fabric.ConnectAsync("requester");
        var service = await fabric.ConnectAsync("service");
        await service.RegisterServiceAsync("/s", new[] { "/s/t" });
        await requester.PublishAsync(new DxlRequest("/s/t", "{}"u8.ToArray()) { ReplyToTopic = requester.ReplyTopic });
        var request = await service.NextAsync<DxlRequest>();
        // The service no longer hosts it and says so.
        await service.PublishAsync(new DxlErrorResponse(request, DxlErrorCodes.ServiceNotFound, DxlErrorCodes.ServiceNotFoundMessage));
        var forwarded = await requester.NextAsync<DxlErrorResponse>();
        Assert.Equal(request.MessageId, forwarded.RequestMessageId);
        Assert.Equal(0, fabric.Broker.ServiceCount);
    }

    [Fact]
    public async Task RoutedRequestThatReachesNobodyGetsNotFoundAndPurgesTheService()
    {
        await using var fabric = await TestFabric.StartAsync();
        var requester = await fabric.ConnectAsync("requester");
        var service = await fabric.ConnectAsync("service");
        // Registered without subscribing: the broker routes to it but nobody receives the request.
        var ack = await service.RequestAsync(new DxlRequest(DxlTopics.ServiceRegister,
            "{\"serviceType\": \"/g\", \"requestChannels\": [\"/g/h\"], \"ttlMins\": 60, \"serviceGuid\": \"{11111111-1111-4111-8111-111111111111}\"}"u8.ToArray()));
        Assert.IsType<DxlResponse>(ack);
        var error = Assert.IsType<DxlErrorResponse>(await requester.RequestAsync(new DxlRequest("/g/h", "{}"u8.ToArray())));
        Assert.Equal(DxlErrorCodes.ServiceNotFound, error.Code);
        Assert.Equal(0, fabric.Broker.ServiceCount);
    }

    [Fact]
    public async Task ExpiredServicesAreNotUsed()
    {
        var time = new ManualTime();
        await using var fabric = await TestFabric.StartAsync(o => o.TimeProvider = time);
        var requester = await fabric.ConnectAsync("requester");
        var service = await fabric.ConnectAsync("service");
        service.Answer = _ => "ok"u8.ToArray();
        await service.RegisterServiceAsync("/ttl", new[] { "/ttl/t" }, ttlMins: 1);
        Assert.IsType<DxlResponse>(await requester.RequestAsync(new DxlRequest("/ttl/t", "{}"u8.ToArray())));
        time.Advance(TimeSpan.FromMinutes(1 + 5) + TimeSpan.FromSeconds(1));
        Assert.IsType<DxlErrorResponse>(await requester.RequestAsync(new DxlRequest("/ttl/t", "{}"u8.ToArray())));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = DateTimeOffset.UtcNow.UtcTicks;
        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    [Fact]
    public async Task EventsAreStampedWithTheSendersIdentity()
    {
        await using var fabric = await TestFabric.StartAsync();
        var receiver = await fabric.ConnectAsync("receiver");
        await receiver.SubscribeAsync("/test/events/#");
        var sender = await fabric.ConnectAsync("sender");
        var ev = new DxlEvent("/test/events/one", "hello"u8.ToArray()) { SourceClientId = "forged", SourceBrokerId = "forged" };
        ev.OtherFields.Add(new("k", "v"));
        await sender.PublishAsync(ev);
        var got = await receiver.NextAsync<DxlEvent>();

        var conn = fabric.Broker.Connections.Single(c => c.Certificate.Subject == "CN=sender");
        Assert.Equal(3, got.Version);
        Assert.Equal(ev.MessageId, got.MessageId);
        Assert.Equal(conn.CanonicalId, got.SourceClientId);
        Assert.Matches("^[0-9a-f]{40}$", got.SourceClientId);
        Assert.Equal(fabric.Broker.BrokerGuid, got.SourceBrokerId);
        Assert.Equal(conn.InstanceId, got.SourceClientInstanceId);
        Assert.StartsWith(conn.CanonicalId + ":", got.SourceClientInstanceId);
        Assert.Equal("hello", got.PayloadText);
        Assert.Equal("v", got.OtherFields.Single(p => p.Key == "k").Value);
        var certs = got.OtherFields.Single(p => p.Key == "dxl.certs").Value.Split(';');
        Assert.Equal(new[] { DxlConnection.Thumbprint(fabric.Pki.Ca), conn.CanonicalId }, certs);
    }

    [Fact]
    public async Task EventsWithAClientListReachOnlyThoseClientsWithTheListEmptied()
    {
        await using var fabric = await TestFabric.StartAsync();
        var one = await fabric.ConnectAsync("one");
        var two = await fabric.ConnectAsync("two");
        await one.SubscribeAsync("/e");
        await two.SubscribeAsync("/e");
        var sender = await fabric.ConnectAsync("sender");
        var target = fabric.Broker.Connections.Single(c => c.Certificate.Subject == "CN=two");
        var ev = new DxlEvent("/e", "x"u8.ToArray());
        ev.ClientIds.Add(target.CanonicalId);
        await sender.PublishAsync(ev);
        var got = await two.NextAsync<DxlEvent>();
        Assert.Empty(got.ClientIds);
        Assert.True(await one.NothingAsync(m => m is DxlEvent, Quiet));
    }

    [Fact]
    public async Task ResponsesReachOnlyTheRequesterAndForeignBrokerIdsReachNobody()
    {
        await using var fabric = await TestFabric.StartAsync();
        var snooper = await fabric.ConnectAsync("snooper");
        await snooper.SubscribeAsync("/mcafee/client/#");
        await snooper.SubscribeAsync("/elsewhere");
        var requester = await fabric.ConnectAsync("requester");
        var service = await fabric.ConnectAsync("service");
        service.Answer = _ => "secret"u8.ToArray();
        await service.RegisterServiceAsync("/r", new[] { "/r/s" });
        Assert.Equal("secret", Assert.IsType<DxlResponse>(await requester.RequestAsync(new DxlRequest("/r/s", "{}"u8.ToArray()))).PayloadText);

        var foreign = new DxlEvent("/elsewhere", "x"u8.ToArray());
        foreign.BrokerIds.Add("{some-other-broker}");
        await requester.PublishAsync(foreign);
        // The snooper sees neither the response nor the broker acknowledgements addressed to others, nor the event.
        Assert.True(await snooper.NothingAsync(m => m is DxlResponse || m.DestinationTopic == "/elsewhere", Quiet));
    }

    [Fact]
    public async Task NonDxlPayloadIsForwardedUnchanged()
    {
        await using var fabric = await TestFabric.StartAsync();
        var receiver = await fabric.ConnectAsync("receiver");
        receiver.RecordRaw = true;
        await receiver.SubscribeAsync("/raw/topic");
        var sender = await fabric.ConnectAsync("sender");
        var payload = new byte[] { 0xc4, 0x03, 1, 2, 3, 0xff, 0x00 };
        await sender.PublishRawAsync("/raw/topic", payload);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var (topic, bytes) = await receiver.Raw.Reader.ReadAsync(cts.Token);
        Assert.Equal("/raw/topic", topic);
        Assert.Equal(payload, bytes);
    }

    [Fact]
    public async Task QosOnePublishesAreDroppedAndOversizedToo()
    {
        await using var fabric = await TestFabric.StartAsync(o => o.MessageSizeLimit = 1000);
        var receiver = await fabric.ConnectAsync("receiver");
        receiver.RecordRaw = true;
        await receiver.SubscribeAsync("/q");
        var sender = await fabric.ConnectAsync("sender");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        // No PUBACK ever comes: the publish times out or is cancelled on the client side.
        _ = sender.PublishRawAsync("/q", "qos1"u8.ToArray(), MqttQualityOfServiceLevel.AtLeastOnce).ContinueWith(t => t.Exception);
        await sender.PublishRawAsync("/q", new byte[1001]);
        await sender.PublishRawAsync("/q", "last"u8.ToArray());
        using var read = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var (_, bytes) = await receiver.Raw.Reader.ReadAsync(read.Token);
        Assert.Equal("last", Encoding.UTF8.GetString(bytes));
        Assert.Equal(2, fabric.Broker.DroppedMessages);
    }

    [Theory]
    [InlineData("/a/+/b")]
    [InlineData("/a/#")]
    public async Task PublishingToAWildcardTopicClosesTheConnection(string topic)
    {
        await using var fabric = await TestFabric.StartAsync();
        await using var raw = await RawMqtt.OpenAsync(fabric.Port, fabric.Pki.IssueClient("rude"));
        await raw.SendConnectAsync("rude", cleanSession: true);
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, await raw.ReadAsync(4, TimeSpan.FromSeconds(10)));
        await raw.SendPublishAsync(topic, "x"u8.ToArray());
        Assert.Empty(await raw.ReadAsync(16, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task PersistentSessionIsClosedWithoutConnack()
    {
        await using var fabric = await TestFabric.StartAsync();
        await using var raw = await RawMqtt.OpenAsync(fabric.Port, fabric.Pki.IssueClient("persistent"));
        await raw.SendConnectAsync("persistent", cleanSession: false);
        Assert.Empty(await raw.ReadAsync(16, TimeSpan.FromSeconds(10)));
        // The socket closes before the broker's bookkeeping ends, so the count settles a moment after the EOF.
        Assert.True(await Poll.UntilAsync(() => fabric.Broker.ConnectionCount == 0, TimeSpan.FromSeconds(10)),
            $"the broker still counts {fabric.Broker.ConnectionCount} connection(s) after closing the persistent session");
        Assert.True(fabric.Broker.RefusedConnections >= 1);
    }

    [Fact]
    public async Task TwoConnectionsWithTheSameClientIdDoNotKickEachOther()
    {
        await using var fabric = await TestFabric.StartAsync();
        var cert = fabric.Pki.IssueClient("twin");
        await using var one = await RawMqtt.OpenAsync(fabric.Port, cert);
        await one.SendConnectAsync("same-id", cleanSession: true);
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, await one.ReadAsync(4, TimeSpan.FromSeconds(10)));
        await using var two = await RawMqtt.OpenAsync(fabric.Port, cert);
        await two.SendConnectAsync("same-id", cleanSession: true);
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, await two.ReadAsync(4, TimeSpan.FromSeconds(10)));
        // The first connection is still open: nothing (no EOF) arrives on it.
        var read = one.ReadAsync(16, TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, fabric.Broker.ConnectionCount);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task ClientCertificateFromAnotherCaIsRefused()
    {
        await using var fabric = await TestFabric.StartAsync();
        var stranger = new TestPki("Other CA");
        var mqtt = new MqttClientFactory().CreateMqttClient();
        var options = TestDxlClient.Options(fabric.Port, stranger.IssueClient("stranger"), fabric.Pki.Ca, "stranger");
        await Assert.ThrowsAnyAsync<Exception>(() => mqtt.ConnectAsync(options));
        Assert.False(mqtt.IsConnected);
        Assert.Equal(0, fabric.Broker.ConnectionCount);
        Assert.True(fabric.Broker.RefusedConnections >= 1);
        mqtt.Dispose();
    }

    [Fact]
    public async Task ClientWithoutCertificateIsRefused()
    {
        await using var fabric = await TestFabric.StartAsync();
        var mqtt = new MqttClientFactory().CreateMqttClient();
        var options = TestDxlClient.Options(fabric.Port, null, fabric.Pki.Ca, "anonymous");
        await Assert.ThrowsAnyAsync<Exception>(() => mqtt.ConnectAsync(options));
        Assert.False(mqtt.IsConnected);
        Assert.Equal(0, fabric.Broker.ConnectionCount);
        mqtt.Dispose();
    }

    [Fact]
    public async Task BrokerServicesAnswer()
    {
        await using var fabric = await TestFabric.StartAsync();
        var client = await fabric.ConnectAsync("client");
        var health = Assert.IsType<DxlResponse>(await client.RequestAsync(new DxlRequest(DxlTopics.BrokerHealth, "{}"u8.ToArray())));
        using (var h = JsonDocument.Parse(health.Payload)) Assert.Equal(1, h.RootElement.GetProperty("connectedClients").GetInt32());
        var brokers = Assert.IsType<DxlResponse>(await client.RequestAsync(new DxlRequest(DxlTopics.BrokerRegistryQuery, "{}"u8.ToArray())));
        using (var b = JsonDocument.Parse(brokers.Payload))
            Assert.Equal(fabric.Port, b.RootElement.GetProperty("brokers").GetProperty(fabric.Broker.BrokerGuid).GetProperty("port").GetInt32());
        var self = fabric.Broker.Connections.Single();
        var found = Assert.IsType<DxlResponse>(await client.RequestAsync(new DxlRequest(DxlTopics.ClientRegistryQuery, Encoding.UTF8.GetBytes("{\"clientGuid\": \"" + self.CanonicalId + "\"}"))));
        Assert.Equal("{}\n", found.PayloadText);
        // Unparsable JSON: dropped without an answer.
        await Assert.ThrowsAsync<TimeoutException>(() => client.RequestAsync(new DxlRequest(DxlTopics.ServiceQuery, "not json"u8.ToArray()), TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task SubscriptionCountAndTopicQueryReflectWhatClientsSubscribe()
    {
        await using var fabric = await TestFabric.StartAsync();
        var asker = await fabric.ConnectAsync("asker");
        var exact = await fabric.ConnectAsync("exact");
        var wild = await fabric.ConnectAsync("wild");
        await exact.SubscribeAsync("/subs/a/b");
        await wild.SubscribeAsync("/subs/#");
        await wild.SubscribeAsync("/subs/+/b");

        async Task<JsonElement> Ask(string topic, string json)
        {
            var response = Assert.IsType<DxlResponse>(await asker.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes(json))));
            Assert.EndsWith("\n", response.PayloadText);
            using var doc = JsonDocument.Parse(response.Payload);
            return doc.RootElement.Clone();
        }

        // Every matching subscription counts: the exact one and both wildcards of the second client.
        Assert.Equal(3, (await Ask(DxlTopics.BrokerSubscriptionCount, "{\"topic\": \"/subs/a/b\"}")).GetProperty("count").GetInt32());
        Assert.Equal(1, (await Ask(DxlTopics.BrokerSubscriptionCount, "{\"topic\": \"/subs/c\"}")).GetProperty("count").GetInt32());
        Assert.Equal(0, (await Ask(DxlTopics.BrokerSubscriptionCount, "{\"topic\": \"/elsewhere\"}")).GetProperty("count").GetInt32());
        // No topic: the broker stays silent (the request is broadcast; brokers without an answer say nothing).
        await Assert.ThrowsAsync<TimeoutException>(() => asker.RequestAsync(new DxlRequest(DxlTopics.BrokerSubscriptionCount, "{}"u8.ToArray()), TimeSpan.FromMilliseconds(500)));

        // Topic query: distinct filters on the broker (three reply topics and three filters), exact names only.
        var query = await Ask(DxlTopics.BrokerTopicQuery, "{\"topics\": [\"/subs/#\", \"/subs/a/b\"]}");
        Assert.Equal(6, query.GetProperty("count").GetInt32());
        Assert.True(query.GetProperty("exists").GetBoolean());
        Assert.False((await Ask(DxlTopics.BrokerTopicQuery, "{\"topics\": [\"/subs/#\", \"/subs/x\"]}")).GetProperty("exists").GetBoolean());
        var other = await Ask(DxlTopics.BrokerTopicQuery, "{\"brokerGuid\": \"{00000000-0000-4000-8000-000000000000}\", \"topics\": [\"/subs/#\"]}");
        Assert.Equal(0, other.GetProperty("count").GetInt32());
        Assert.False(other.GetProperty("exists").GetBoolean());

        // Unsubscribing and disconnecting take subscriptions away (left: two reply topics and /subs/+/b).
        await wild.UnsubscribeAsync("/subs/#");
        Assert.Equal(2, (await Ask(DxlTopics.BrokerSubscriptionCount, "{\"topic\": \"/subs/a/b\"}")).GetProperty("count").GetInt32());
        await exact.DisposeAsync();
        Assert.True(await Poll.UntilAsync(() => fabric.Broker.ConnectionCount == 2, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, (await Ask(DxlTopics.BrokerSubscriptionCount, "{\"topic\": \"/subs/a/b\"}")).GetProperty("count").GetInt32());
        Assert.Equal(3, (await Ask(DxlTopics.BrokerTopicQuery, "{}")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task DisconnectsAreCountedAsCleanOrAbrupt()
    {
        await using var fabric = await TestFabric.StartAsync();
        var polite = await fabric.ConnectAsync("polite");
        await polite.DisposeAsync();
        Assert.True(await Poll.UntilAsync(() => fabric.Broker.CleanDisconnects == 1, TimeSpan.FromSeconds(10)));

        var rude = await RawMqtt.OpenAsync(fabric.Port, fabric.Pki.IssueClient("rude"));
        await rude.SendConnectAsync("rude", cleanSession: true);
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, await rude.ReadAsync(4, TimeSpan.FromSeconds(10)));
        await rude.DisposeAsync(); // the socket closes without an MQTT DISCONNECT
        Assert.True(await Poll.UntilAsync(() => fabric.Broker.AbruptDisconnects == 1, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, fabric.Broker.CleanDisconnects);
    }
}
