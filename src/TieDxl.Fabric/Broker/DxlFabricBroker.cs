using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;

namespace TieDxl.Fabric.Broker;

/// <summary>
/// An in-process DXL broker on MQTTnet.Server that behaves like the OpenDXL broker where a client can see it:
/// mutual TLS with the fabric's CAs, source-id stamping (envelope version 3), the service registry, routing of
/// each request to one service instance, the "unable to locate service" error, and client/broker id filters.
/// Broker services: service registry register/unregister/query, broker health, broker registry query,
/// client registry query, subscription count (broker/subs) and topic query. Not simulated: bridges to other brokers,
/// multi-tenancy, test mode and the 0x80000002 overload error.
/// </summary>
public sealed class DxlFabricBroker : IAsyncDisposable
{
    /// <summary>Sender id of messages the broker injects itself; no client can have it (instance ids contain ':').</summary>
    private const string InternalSender = "<dxl-broker>";

    private readonly ConcurrentDictionary<string, DxlConnection> _connections = new(StringComparer.Ordinal);
    // Per-message delivery rules, looked up when MQTTnet asks whether to enqueue a copy for a subscriber.
    private readonly ConditionalWeakTable<MqttApplicationMessage, Delivery> _deliveries = new();
    private readonly DxlServiceRegistry _registry;
    private readonly DxlTlsServerAdapter _adapter;
    private readonly MqttServer _server;
    private readonly DateTimeOffset _created;
    private DateTimeOffset _startTime;
    private long _incoming, _outgoing, _refused, _dropped, _cleanDisconnects, _abruptDisconnects;
    private int _state; // 0 new, 1 started, 2 stopped

    public DxlFabricBroker(DxlFabricBrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        BrokerGuid = string.IsNullOrEmpty(options.BrokerGuid) ? Guid.NewGuid().ToString("D") : options.BrokerGuid;
        _registry = new DxlServiceRegistry(options.TimeProvider, options.ServiceTtlGrace);
        _adapter = new DxlTlsServerAdapter(this);
        _created = options.TimeProvider.GetUtcNow();

        var serverOptions = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithMaxPendingMessagesPerClient(options.MaxPendingMessagesPerClient)
            .WithDefaultCommunicationTimeout(options.HandshakeTimeout)
            .Build();
        serverOptions.WriterBufferSize = 8192;
        _server = new MqttServerFactory().CreateMqttServer(serverOptions, new IMqttServerAdapter[] { _adapter });
        _server.InterceptingPublishAsync += OnInterceptingPublishAsync;
        _server.InterceptingClientEnqueueAsync += OnInterceptingEnqueueAsync;
        _server.ApplicationMessageNotConsumedAsync += OnNotConsumedAsync;
        _server.ClientDisconnectedAsync += e =>
        {
            // Clean: the client said goodbye (MQTT DISCONNECT); anything else: the connection just ended.
            if (e.DisconnectType == MqttClientDisconnectType.Clean) Interlocked.Increment(ref _cleanDisconnects);
            else Interlocked.Increment(ref _abruptDisconnects);
            return Task.CompletedTask;
        };
        var denied = options.DeniedSubscriptions.ToHashSet(StringComparer.Ordinal);
        if (denied.Count > 0)
            _server.InterceptingSubscriptionAsync += e =>
            {
                if (!denied.Contains(e.TopicFilter.Topic)) return Task.CompletedTask;
                e.ProcessSubscription = false;
                e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
                return Task.CompletedTask;
            };
        _server.ClientSubscribedTopicAsync += e =>
        {
            if (e.ClientId is not null && _connections.TryGetValue(e.ClientId, out var c)) c.Subscriptions.TryAdd(e.TopicFilter.Topic, 0);
            return Task.CompletedTask;
        };
        _server.ClientUnsubscribedTopicAsync += e =>
        {
            if (e.ClientId is not null && _connections.TryGetValue(e.ClientId, out var c)) c.Subscriptions.TryRemove(e.TopicFilter, out _);
            return Task.CompletedTask;
        };
    }

    public DxlFabricBrokerOptions Options { get; }

    /// <summary>The broker GUID stamped as source_broker_id (bare lower-case UUID unless configured).</summary>
    public string BrokerGuid { get; }

    /// <summary>The TLS port (valid after <see cref="StartAsync"/>).</summary>
    public int Port => _adapter.Port;

    /// <summary>Where clients connect (valid after <see cref="StartAsync"/>).</summary>
    public IPEndPoint EndPoint => new(Options.BindAddress, Port);

    public int ConnectionCount => _connections.Count;
    public long IncomingMessages => Interlocked.Read(ref _incoming);
    public long OutgoingMessages => Interlocked.Read(ref _outgoing);

    /// <summary>Connections refused at TLS or CONNECT (no/unknown certificate, clean-session=false, timeouts).</summary>
    public long RefusedConnections => Interlocked.Read(ref _refused);

    /// <summary>Connections that ended with an MQTT DISCONNECT from the client (an orderly goodbye).</summary>
    public long CleanDisconnects => Interlocked.Read(ref _cleanDisconnects);

    /// <summary>Connections that ended without a DISCONNECT: a crash, a killed process, a dropped network.</summary>
    public long AbruptDisconnects => Interlocked.Read(ref _abruptDisconnects);

    /// <summary>Publishes dropped unread: QoS &gt; 0, or over <see cref="DxlFabricBrokerOptions.MessageSizeLimit"/>.</summary>
    public long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <summary>Diagnostics (refused connections, failed injections). Handlers must be quick and must not throw.</summary>
    public event Action<string>? Diagnostic;

    /// <summary>A snapshot of the connections (identity as the broker stamps it).</summary>
    public IReadOnlyList<DxlConnection> Connections => _connections.Values.ToArray();

    public int ServiceCount => _registry.Count;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) throw new InvalidOperationException("The broker was already started.");
        cancellationToken.ThrowIfCancellationRequested();
        _startTime = Options.TimeProvider.GetUtcNow();
        await _server.StartAsync().ConfigureAwait(false);
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) != 1) return;
        await _server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _server.Dispose();
        _adapter.Dispose();
    }

    // ---- connection bookkeeping (called by the TLS adapter) ----

    internal void AddConnection(DxlConnection connection) => _connections[connection.InstanceId] = connection;

    internal async Task RemoveConnectionAsync(DxlConnection connection)
    {
        _connections.TryRemove(connection.InstanceId, out _);
        // A disconnected client's services go with it, announced as the broker does.
        var removed = _registry.RemoveInstance(connection.InstanceId);
        for (int i = 0; i < removed.Count; i++)
        {
            await PublishEventAsync(DxlTopics.ServiceUnregisteredEvent, DxlServiceRegistry.GuidJson(removed[i].ServiceGuid)).ConfigureAwait(false);
        }
    }

    internal void CountRefused() => Interlocked.Increment(ref _refused);
    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    internal void Log(string text)
    {
        try
        {
            Diagnostic?.Invoke(text);
        }
        catch (Exception)
        {
            // A faulty diagnostic handler must not break the broker.
        }
    }

    // ---- message path ----

    private sealed class Delivery
    {
        public Delivery(IList<string>? clientIds, DxlRequest? request, string? routedServiceGuid)
        {
            ClientIds = clientIds;
            Request = request;
            RoutedServiceGuid = routedServiceGuid;
        }

        /// <summary>Only these connections (instance or canonical id) receive the message; null or empty = all.</summary>
        public IList<string>? ClientIds { get; }

        /// <summary>Set for requests: when nobody receives them, the requester gets "unable to locate service".</summary>
        public DxlRequest? Request { get; }

        /// <summary>The service a request was routed to; unregistered when the request reaches nobody.</summary>
        public string? RoutedServiceGuid { get; }
    }

    private Task OnInterceptingPublishAsync(InterceptingPublishEventArgs e)
    {
        if (ReferenceEquals(e.ClientId, InternalSender) || e.ClientId == InternalSender) return Task.CompletedTask;
        Interlocked.Increment(ref _incoming);
        if (e.ClientId is null || !_connections.TryGetValue(e.ClientId, out var connection)) return Task.CompletedTask;
        var app = e.ApplicationMessage;
        // Not a DXL envelope: the broker forwards the bytes untouched.
        if (!DxlEnvelope.TryDecode(app.Payload, app.Topic, out var message) || message is null) return Task.CompletedTask;

        if (message.BrokerIds.Count > 0 && !Contains(message.BrokerIds, BrokerGuid))
        {
            // Meant for other brokers only; there are none in this fabric.
            e.ProcessPublish = false;
            return Task.CompletedTask;
        }
        Stamp(message, connection);

        switch (message)
        {
            case DxlRequest request:
                return HandleRequestAsync(e, request, connection);
            case DxlErrorResponse error when error.Code == DxlErrorCodes.ServiceNotFound && !string.IsNullOrEmpty(error.ServiceId):
                // A service that no longer hosts this id says so; the broker purges the registration.
                Forward(e, message, message.ClientIds, null, null);
                return UnregisterAndAnnounceAsync(error.ServiceId!, null);
            case DxlEvent ev:
                var targets = ev.ClientIds;
                // The delivered copy of an event has no client list; the list only filters.
                ev.ClientIds = new List<string>();
                Forward(e, ev, targets, null, null);
                return Task.CompletedTask;
            default:
                Forward(e, message, message.ClientIds, null, null);
                return Task.CompletedTask;
        }
    }

    private void Stamp(DxlMessage message, DxlConnection connection)
    {
        message.Version = 3;
        message.SourceClientId = connection.CanonicalId;
        message.SourceBrokerId = BrokerGuid;
        message.SourceClientInstanceId = connection.InstanceId;
        message.SourceTenantGuid = "";
        var other = message.OtherFields;
        bool hasCerts = false;
        for (int i = 0; i < other.Count; i++)
        {
            if (other[i].Key == "dxl.certs")
            {
                hasCerts = true;
                break;
            }
        }
        // Non-overwriting insert, as the broker's.
        if (!hasCerts && connection.DxlCerts.Length > 0)
        {
            if (other.IsReadOnly) message.OtherFields = other = new List<KeyValuePair<string, string>>(other);
            other.Add(new KeyValuePair<string, string>("dxl.certs", connection.DxlCerts));
        }
    }

    private void Forward(InterceptingPublishEventArgs e, DxlMessage message, IList<string>? clientIds, DxlRequest? request, string? routedService)
    {
        var original = e.ApplicationMessage;
        var replacement = new MqttApplicationMessage
        {
            Topic = original.Topic,
            Payload = new ReadOnlySequence<byte>(DxlEnvelope.Encode(message, 3)),
        };
        if ((clientIds is not null && clientIds.Count > 0) || request is not null)
        {
            _deliveries.AddOrUpdate(replacement, new Delivery(clientIds is { Count: > 0 } ? clientIds : null, request, routedService));
        }
        e.ApplicationMessage = replacement;
    }

    private async Task HandleRequestAsync(InterceptingPublishEventArgs e, DxlRequest request, DxlConnection connection)
    {
        var topic = e.ApplicationMessage.Topic;
        if (topic.StartsWith(DxlTopics.BrokerServicePrefix, StringComparison.Ordinal))
        {
            var handled = await TryHandleBrokerServiceAsync(topic, request, connection).ConfigureAwait(false);
            if (handled)
            {
                e.ProcessPublish = false;
                return;
            }
            // Another broker-internal topic: delivered to subscribers if any, else "unable to locate service".
            Forward(e, request, request.ClientIds, request, null);
            return;
        }

        if (!string.IsNullOrEmpty(request.ServiceId) && request.ClientIds.Count > 0 && request.BrokerIds.Count > 0)
        {
            // Routing already decided by the sender.
            Forward(e, request, request.ClientIds, request, request.ServiceId);
            return;
        }

        var service = string.IsNullOrEmpty(request.ServiceId) ? _registry.Pick(topic) : _registry.FindByGuid(request.ServiceId);
        if (service is null)
        {
            e.ProcessPublish = false;
            await SendServiceNotFoundAsync(request).ConfigureAwait(false);
            return;
        }
        var requester = request.ServiceId;
        request.ServiceId = service.ServiceGuid;
        request.BrokerIds = new List<string>(1) { service.BrokerGuid };
        request.ClientIds = new List<string>(1) { service.ClientInstanceGuid };
        // The error for an unconsumed request names the service id the requester gave (empty if none).
        var forError = CloneForError(request, requester);
        Forward(e, request, request.ClientIds, forError, service.ServiceGuid);
    }

    private static DxlRequest CloneForError(DxlRequest routed, string? originalServiceId) => new()
    {
        MessageId = routed.MessageId,
        ReplyToTopic = routed.ReplyToTopic,
        ServiceId = originalServiceId ?? "",
        SourceBrokerId = routed.SourceBrokerId,
        SourceClientId = routed.SourceClientId,
        SourceClientInstanceId = routed.SourceClientInstanceId,
        DestinationTopic = routed.DestinationTopic,
    };

    private Task OnInterceptingEnqueueAsync(InterceptingClientApplicationMessageEnqueueEventArgs e)
    {
        if (_deliveries.TryGetValue(e.ApplicationMessage, out var delivery) && delivery.ClientIds is { } ids)
        {
            if (!Matches(ids, e.ReceiverClientId))
            {
                e.AcceptEnqueue = false;
                return Task.CompletedTask;
            }
        }
        Interlocked.Increment(ref _outgoing);
        return Task.CompletedTask;
    }

    private async Task OnNotConsumedAsync(ApplicationMessageNotConsumedEventArgs e)
    {
        if (!_deliveries.TryGetValue(e.ApplicationMessage, out var delivery) || delivery.Request is null) return;
        // A routed request that reached nobody: the instance is gone; purge it and tell the requester.
        if (delivery.RoutedServiceGuid is { Length: > 0 } guid) await UnregisterAndAnnounceAsync(guid, null).ConfigureAwait(false);
        await SendServiceNotFoundAsync(delivery.Request).ConfigureAwait(false);
    }

    private static bool Matches(IList<string> ids, string receiverInstanceId)
    {
        var canonical = DxlConnection.CanonicalOf(receiverInstanceId);
        for (int i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            if (id == receiverInstanceId || canonical.SequenceEqual(id)) return true;
        }
        return false;
    }

    private static bool Contains(IList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] == value) return true;
        }
        return false;
    }

    // ---- broker-generated messages ----

    private DxlResponse ResponseTo(DxlRequest request, byte[] payload) => Generated(new DxlResponse
    {
        RequestMessageId = request.MessageId,
        ServiceId = request.ServiceId ?? "",
        Payload = payload,
    }, request);

    private T Generated<T>(T message, DxlRequest request) where T : DxlResponse
    {
        message.Version = 3;
        message.MessageId = Guid.NewGuid().ToString("D");
        message.SourceClientId = BrokerGuid;
        message.SourceBrokerId = BrokerGuid;
        message.SourceClientInstanceId = BrokerGuid;
        message.DestinationTopic = request.ReplyToTopic ?? "";
        if (!string.IsNullOrEmpty(request.SourceBrokerId)) message.BrokerIds = new List<string>(1) { request.SourceBrokerId };
        var target = string.IsNullOrEmpty(request.SourceClientInstanceId) ? request.SourceClientId : request.SourceClientInstanceId;
        if (!string.IsNullOrEmpty(target)) message.ClientIds = new List<string>(1) { target };
        return message;
    }

    private Task SendServiceNotFoundAsync(DxlRequest request)
    {
        var error = Generated(new DxlErrorResponse
        {
            RequestMessageId = request.MessageId,
            ServiceId = request.ServiceId ?? "",
            // int32 form, as the broker packs it.
            ErrorCode = unchecked((int)DxlErrorCodes.ServiceNotFound),
            ErrorMessage = DxlErrorCodes.ServiceNotFoundMessage,
        }, request);
        return PublishAsync(error, error.ClientIds);
    }

    private Task RespondAsync(DxlRequest request, byte[] payload)
    {
        var response = ResponseTo(request, payload);
        return PublishAsync(response, response.ClientIds);
    }

    private Task PublishEventAsync(string topic, byte[] payload)
    {
        var ev = new DxlEvent(topic, payload)
        {
            Version = 3,
            MessageId = Guid.NewGuid().ToString("D"),
            SourceClientId = BrokerGuid,
            SourceBrokerId = BrokerGuid,
            SourceClientInstanceId = BrokerGuid,
        };
        return PublishAsync(ev, null);
    }

    private async Task PublishAsync(DxlMessage message, IList<string>? clientIds)
    {
        var topic = message.DestinationTopic;
        if (string.IsNullOrEmpty(topic) || topic.AsSpan().IndexOfAny('+', '#') >= 0 || Volatile.Read(ref _state) != 1) return;
        var app = new MqttApplicationMessage
        {
            Topic = topic,
            Payload = new ReadOnlySequence<byte>(DxlEnvelope.Encode(message, 3)),
        };
        if (clientIds is { Count: > 0 }) _deliveries.AddOrUpdate(app, new Delivery(clientIds, null, null));
        try
        {
            await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(app) { SenderClientId = InternalSender }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log($"could not publish to '{topic}': {ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task UnregisterAndAnnounceAsync(string serviceGuid, string? ownerCanonicalId)
    {
        var removed = _registry.Unregister(serviceGuid, ownerCanonicalId);
        if (removed is not null) await PublishEventAsync(DxlTopics.ServiceUnregisteredEvent, DxlServiceRegistry.GuidJson(removed.ServiceGuid)).ConfigureAwait(false);
    }

    // ---- broker services ----

    private static bool IsBrokerService(string topic) => topic is DxlTopics.ServiceRegister or DxlTopics.ServiceUnregister
        or DxlTopics.ServiceQuery or DxlTopics.BrokerHealth or DxlTopics.BrokerRegistryQuery or DxlTopics.ClientRegistryQuery
        or DxlTopics.BrokerSubscriptionCount or DxlTopics.BrokerTopicQuery;

    /// <summary>Answers a request to one of the broker's own services; false when the topic is not one of them.</summary>
    private async Task<bool> TryHandleBrokerServiceAsync(string topic, DxlRequest request, DxlConnection connection)
    {
        if (!IsBrokerService(topic)) return false;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(request.Payload);
        }
        catch (JsonException)
        {
            // The broker drops a request whose payload is not JSON, without an answer.
            return true;
        }
        using (doc)
        {
            // A JSON payload that is not an object is dropped the same way.
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
                await AnswerBrokerServiceAsync(topic, request, doc.RootElement, connection).ConfigureAwait(false);
        }
        return true;
    }

    private Task AnswerBrokerServiceAsync(string topic, DxlRequest request, JsonElement root, DxlConnection connection) => topic switch
    {
        DxlTopics.ServiceRegister => RegisterServiceAsync(request, root, connection),
        DxlTopics.ServiceUnregister => UnregisterServiceAsync(request, root, connection),
        DxlTopics.ServiceQuery => RespondAsync(request, _registry.QueryJson(GetString(root, "serviceGuid"), GetString(root, "serviceType"))),
        DxlTopics.BrokerHealth => RespondAsync(request, HealthJson()),
        DxlTopics.BrokerRegistryQuery => RespondAsync(request, BrokerRegistryJson(AsksThisBroker(root))),
        DxlTopics.BrokerSubscriptionCount => AnswerSubscriptionCountAsync(request, root),
        DxlTopics.BrokerTopicQuery => RespondAsync(request, TopicQueryJson(AsksThisBroker(root), root)),
        _ => AnswerClientRegistryQueryAsync(request, root),
    };

    /// <summary>A registry query without a brokerGuid, or with this broker's, is about this broker.</summary>
    private bool AsksThisBroker(JsonElement root) => GetString(root, "brokerGuid") is not { Length: > 0 } wanted || wanted == BrokerGuid;

    private async Task RegisterServiceAsync(DxlRequest request, JsonElement root, DxlConnection connection)
    {
        var registration = ParseRegistration(root, connection);
        if (registration is null) return;
        _registry.Register(registration);
        await RespondAsync(request, Array.Empty<byte>()).ConfigureAwait(false);
        await PublishEventAsync(DxlTopics.ServiceRegisteredEvent, DxlServiceRegistry.RecordJson(registration)).ConfigureAwait(false);
    }

    /// <summary>Acknowledged whether or not the service was there; only its owner's request removes it.</summary>
    private async Task UnregisterServiceAsync(DxlRequest request, JsonElement root, DxlConnection connection)
    {
        var guid = GetString(root, "serviceGuid");
        var removed = string.IsNullOrEmpty(guid) ? null : _registry.Unregister(guid, connection.CanonicalId);
        await RespondAsync(request, Array.Empty<byte>()).ConfigureAwait(false);
        if (removed is not null) await PublishEventAsync(DxlTopics.ServiceUnregisteredEvent, DxlServiceRegistry.GuidJson(removed.ServiceGuid)).ConfigureAwait(false);
    }

    /// <summary>Broadcast to every broker: one with nothing to say (no topic) stays silent, never "not found".</summary>
    private Task AnswerSubscriptionCountAsync(DxlRequest request, JsonElement root) =>
        GetString(root, "topic") is { Length: > 0 } subscribed ? RespondAsync(request, SubscriptionCountJson(subscribed)) : Task.CompletedTask;

    /// <summary>"{}" when the client is connected here, no answer otherwise.</summary>
    private Task AnswerClientRegistryQueryAsync(DxlRequest request, JsonElement root) =>
        GetString(root, "clientGuid") is { Length: > 0 } client && IsConnected(client)
            ? RespondAsync(request, DxlServiceRegistry.WithNewline("{}"u8))
            : Task.CompletedTask;

    private bool IsConnected(string clientId)
    {
        if (_connections.ContainsKey(clientId)) return true;
        foreach (var c in _connections.Values)
        {
            if (c.CanonicalId == clientId) return true;
        }
        return false;
    }

    private DxlServiceRegistration? ParseRegistration(JsonElement root, DxlConnection connection)
    {
        var guid = GetString(root, "serviceGuid");
        if (string.IsNullOrEmpty(guid)) return null;
        uint ttl = 60;
        if (root.TryGetProperty("ttlMins", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetUInt32(out var parsed)) ttl = parsed;
        var channels = new List<string>();
        if (root.TryGetProperty("requestChannels", out var rc) && rc.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in rc.EnumerateArray())
            {
                if (c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } s && !channels.Contains(s)) channels.Add(s);
            }
        }
        var meta = new List<KeyValuePair<string, string>>();
        if (root.TryGetProperty("metaData", out var md) && md.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in md.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String) meta.Add(new(p.Name, p.Value.GetString()!));
            }
        }
        return new DxlServiceRegistration
        {
            ServiceGuid = guid,
            ServiceType = GetString(root, "serviceType") ?? "",
            RequestChannels = channels,
            MetaData = meta,
            TtlMins = ttl,
            ClientGuid = connection.CanonicalId,
            ClientInstanceGuid = connection.InstanceId,
            BrokerGuid = BrokerGuid,
            Certificates = connection.ChainThumbprints,
            RegistrationTime = Options.TimeProvider.GetUtcNow(),
        };
    }

    private static string? GetString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary><c>{"count":n}</c>: the subscriptions on this broker whose filter matches <paramref name="topic"/>.</summary>
    private byte[] SubscriptionCountJson(string topic)
    {
        var count = 0;
        foreach (var connection in _connections.Values)
        {
            foreach (var filter in connection.Subscriptions.Keys)
            {
                if (MqttTopicFilterComparer.Compare(topic, filter) == MqttTopicFilterCompareResult.IsMatch) count++;
            }
        }
        return CountJson(count, exists: null);
    }

    /// <summary>
    /// <c>{"count":n,"exists":b}</c>: how many distinct topic filters the broker has subscribers for, and whether every
    /// queried topic is one of them (exact filters, as the OpenDXL broker's topic registry compares them). Another
    /// broker's GUID: this fabric knows none, so 0 and false.
    /// </summary>
    private byte[] TopicQueryJson(bool self, JsonElement root)
    {
        var filters = new HashSet<string>(StringComparer.Ordinal);
        if (self)
        {
            foreach (var connection in _connections.Values)
                filters.UnionWith(connection.Subscriptions.Keys);
        }
        var exists = self;
        if (root.TryGetProperty("topics", out var topics) && topics.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in topics.EnumerateArray())
            {
                if (t.ValueKind != JsonValueKind.String || !filters.Contains(t.GetString()!)) exists = false;
            }
        }
        return CountJson(filters.Count, exists);
    }

    private static byte[] CountJson(int count, bool? exists)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("count", count);
            if (exists is { } e) w.WriteBoolean("exists", e);
            w.WriteEndObject();
        }
        return DxlServiceRegistry.WithNewline(buffer.WrittenSpan);
    }

    private byte[] HealthJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("connectedClients", _connections.Count);
            w.WriteNumber("incomingMessages", IncomingMessages);
            w.WriteNumber("outgoingMessages", OutgoingMessages);
            w.WriteNumber("localServiceCounter", _registry.Count);
            w.WriteNumber("startTime", (_startTime == default ? _created : _startTime).ToUnixTimeSeconds());
            w.WriteEndObject();
        }
        return DxlServiceRegistry.WithNewline(buffer.WrittenSpan);
    }

    private byte[] BrokerRegistryJson(bool includeSelf)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("brokers");
            if (includeSelf)
            {
                w.WriteStartObject(BrokerGuid);
                w.WriteString("guid", BrokerGuid);
                w.WriteString("hostname", Options.HostName);
                w.WriteNumber("port", Port);
                w.WriteNumber("webSocketPort", 0);
                w.WriteNumber("ttlMins", 60);
                w.WriteString("version", "6.0.0.0-tiedxl-embedded");
                w.WriteNumber("startTime", (_startTime == default ? _created : _startTime).ToUnixTimeSeconds());
                w.WriteString("policyHostname", Options.HostName);
                w.WriteString("policyIpAddress", Options.BindAddress.ToString());
                w.WriteString("policyHub", "");
                w.WriteNumber("policyPort", Port);
                w.WriteNumber("connectionLimit", 0);
                w.WriteBoolean("topicRouting", false);
                w.WriteStartArray("bridges");
                w.WriteEndArray();
                w.WriteStartArray("bridgeChildren");
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return DxlServiceRegistry.WithNewline(buffer.WrittenSpan);
    }
}
