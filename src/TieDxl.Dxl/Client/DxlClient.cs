using System.Buffers;
using MQTTnet;
using MQTTnet.Exceptions;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;

namespace TieDxl.Dxl.Client;

/// <summary>
/// A DXL client over MQTTnet: MQTT 3.1.1, clean session, QoS 0, mutual TLS. Many requests in flight on one
/// connection; events; hosted services. A facade over its parts, each owning its own state:
/// <see cref="DxlClientConnection"/> (state, gate, reconnect and failover, liveness, outages, the writer),
/// <see cref="PendingRequests"/>, <see cref="DxlSubscriptions"/> (events and service topics),
/// <see cref="DxlServiceHost"/>, and <see cref="DxlDeliveryPolicy"/>, the one place for every rule about waiting,
/// re-sending and confirming across a lost connection.
/// </summary>
public sealed class DxlClient : IAsyncDisposable
{
    /// <summary>The broker drops envelopes over this size (messageSizeLimit, 1 MiB).</summary>
    public const int MaxMessageSize = MqttWriter.MaxMessageSize;

    private readonly DxlLogSink _log;
    private readonly DxlClientConnection _connection;
    private readonly PendingRequests _pending = new();
    private readonly DxlSubscriptions _subscriptions;
    private readonly DxlServiceHost _services;
    private readonly DxlDeliveryPolicy _delivery;

    public DxlClient(DxlClientConfig config, DxlLogSink? log = null)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        _log = log ?? ((_, _) => { });
        ClientId = config.ClientId;
        _connection = new DxlClientConnection(config, ClientId, _pending, _log, RestoreAfterConnectAsync, _pending.FailAll, OnMqttMessageAsync);
        _subscriptions = new DxlSubscriptions(_connection.Writer, ClientId, DxlTopics.ClientReplyPrefix + ClientId, _log);
        _delivery = new DxlDeliveryPolicy(_connection, _pending);
        _connection.Reconnected += (_, outage) => _ = _delivery.ReplayAfterAsync(outage, _connection.Lifetime);
        _services = new DxlServiceHost(_connection, _subscriptions, RequestAsync, _log);
    }

    public DxlClientConfig Config { get; }
    public string ClientId { get; }

    /// <summary><c>/mcafee/client/{ClientId}</c>.</summary>
    public string ReplyTopic => _subscriptions.ReplyTopic;

    public DxlConnectionState State => _connection.State;

    public bool IsConnected => _connection.IsConnected;

    /// <summary>The broker of the live connection, or null.</summary>
    public DxlBroker? CurrentBroker => _connection.CurrentBroker;

    /// <summary>Requests awaiting a response right now.</summary>
    public int PendingRequestCount => _pending.Count;

    /// <summary>Since when the fabric has been unreachable (connection lost or found dead); null while connected.</summary>
    public DateTimeOffset? UnreachableSince => _connection.Outages.UnreachableSince;

    /// <summary>Why the connection was last lost, or the last failed connect attempt since; kept after the reconnect.</summary>
    public string? LastConnectionError => _connection.Outages.LastError;

    /// <summary>How many times the client reconnected after losing its connection.</summary>
    public int ReconnectCount => _connection.Outages.ReconnectCount;

    /// <summary>The most recent outage that ended with a reconnect, or null.</summary>
    public DxlOutage? LastOutage => _connection.Outages.LastOutage;

    internal DxlResilienceTimings Timings
    {
        get => _connection.Timings;
        set => _connection.Timings = value;
    }

    /// <summary>Raised on every state change (from a thread-pool thread).</summary>
    public event EventHandler<DxlConnectionState>? StateChanged
    {
        add => _connection.StateChanged += value;
        remove => _connection.StateChanged -= value;
    }

    /// <summary>
    /// Raised (on a thread-pool thread) after every reconnect, with the outage window: events published on the fabric
    /// between <see cref="DxlOutage.DisconnectedAt"/> and <see cref="DxlOutage.ReconnectedAt"/> were not received.
    /// Subscriptions are already restored when it is raised.
    /// </summary>
    public event EventHandler<DxlOutage>? Reconnected
    {
        add => _connection.Reconnected += value;
        remove => _connection.Reconnected -= value;
    }

    /// <summary>Probes and orders the brokers, connects, subscribes the reply topic. Throws DxlConnectionException/DxlTlsException.</summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default) => _connection.ConnectAsync(cancellationToken);

    /// <summary>After every (re)connect: subscribe everything (sessions are clean), then register services.</summary>
    private async Task RestoreAfterConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _connection.Writer.SubscribeAsync(_subscriptions.AllTopics(), cancellationToken).ConfigureAwait(false);
        }
        catch (DxlSubscriptionRefusedException e)
        {
            // Granted before, refused now (the authorisation changed meanwhile): the connection itself is fine.
            _log(DxlLogLevel.Warning, $"DXL client {ClientId}: after the reconnect: {e.Message}");
        }
        _services.RegisterAll();
    }

    /// <summary>Unregisters services, flushes queued publishes, unsubscribes, disconnects.</summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        if (State == DxlConnectionState.Closed) return;
        _log(DxlLogLevel.Debug, $"DXL client {ClientId}: disconnecting");
        _connection.MarkClosed();
        if (_connection.Writer.IsConnected)
        {
            try
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(TimeSpan.FromSeconds(10));
                await _services.UnregisterAllAsync(bounded.Token).ConfigureAwait(false);
                await _connection.Writer.WaitForPublishesAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or DxlException or MqttCommunicationException)
            {
                _log(DxlLogLevel.Warning, $"DXL client {ClientId}: orderly shutdown incomplete: {e.Message}");
            }
        }
        _services.StopRefreshing();
        _pending.FailAll(new DxlConnectionException("The DXL client was disconnected while the request was pending."));
        await _connection.StopAsync().ConfigureAwait(false);
        await _subscriptions.StopAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync().ConfigureAwait(false);
        _connection.Dispose();
    }

    private Task OnMqttMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        DxlMessage message;
        try
        {
            // MQTTnet (5.2) gives every received message a payload array of its own that nobody writes again, so the
            // decoded message may refer to it instead of copying (DxlClientMosquittoTests holds this to account).
            var payload = e.ApplicationMessage.Payload;
            message = payload.IsSingleSegment
                ? DxlEnvelope.DecodeSharing(payload.First, e.ApplicationMessage.Topic)
                : DxlEnvelope.Decode(payload, e.ApplicationMessage.Topic);
        }
        catch (DxlEnvelopeException ex)
        {
            _log(DxlLogLevel.Warning, $"DXL client {ClientId}: dropped a malformed message on '{e.ApplicationMessage.Topic}': {ex.Message}");
            return Task.CompletedTask;
        }

        switch (message)
        {
            case DxlResponse response:
                // Inline: completing a pending request is cheap and must never wait behind callbacks.
                if (!_pending.Complete(response))
                    _log(DxlLogLevel.Debug, $"DXL client {ClientId}: response to unknown or expired request {response.RequestMessageId}");
                break;
            case DxlRequest request:
                ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.services.HandleRequestAsync(state.request), (services: _services, request), preferLocal: false);
                break;
            case DxlEvent dxlEvent:
                _subscriptions.Enqueue(dxlEvent);
                break;
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends a request and awaits its response, all within <paramref name="timeout"/>. An error response throws
    /// <see cref="DxlErrorResponseException"/>, no answer in time throws <see cref="DxlTimeoutException"/>. Across a
    /// lost connection the rules of <see cref="DxlDeliveryPolicy"/> apply: the request waits for the connection
    /// (<see cref="DxlFabricUnreachableException"/> when time runs out first), and an idempotent one
    /// (<see cref="DxlRequest.IsIdempotent"/>) is sent again when its answer was lost.
    /// </summary>
    public Task<DxlResponse> RequestAsync(DxlRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "The timeout must be positive.");
        if (string.IsNullOrEmpty(request.MessageId)) request.MessageId = DxlMessage.NewId();
        request.ReplyToTopic = ReplyTopic;
        return _delivery.RequestAsync(request, timeout, cancellationToken);
    }

    /// <summary>
    /// Proves the reply topic works end to end: publishes a response to this client's own reply topic and waits
    /// for it to come back through the broker.
    /// </summary>
    public async Task PingReplyTopicAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var id = DxlMessage.NewId();
        var pending = _pending.Add(id, ReplyTopic);
        try
        {
            await _connection.Writer.PublishAsync(new DxlResponse { DestinationTopic = ReplyTopic, RequestMessageId = id }, cancellationToken).ConfigureAwait(false);
            try
            {
                await pending.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw _connection.NoAnswer(ReplyTopic, id, timeout);
            }
        }
        finally
        {
            _pending.Remove(id, pending);
        }
    }

    /// <summary>Publishes an event; completes when the bytes were handed to the connection. Fails at once if not connected.</summary>
    public Task SendEventAsync(DxlEvent dxlEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dxlEvent);
        return _connection.Writer.PublishAsync(dxlEvent, cancellationToken);
    }

    /// <summary>
    /// Publishes an event, riding through a reconnect (<see cref="DxlDeliveryPolicy"/>): it waits for the connection
    /// (at most <paramref name="timeout"/>), and completes only once the broker has read the event. A subscriber may
    /// receive a re-published event twice.
    /// </summary>
    public Task SendEventAsync(DxlEvent dxlEvent, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dxlEvent);
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "The timeout must be positive.");
        return _delivery.SendEventAsync(dxlEvent, timeout, cancellationToken);
    }

    /// <summary>
    /// Tells the client how to know that the receivers of <paramref name="topic"/> are back after a reconnect (for
    /// example one answered request to their service); null removes it. Events on the topic then wait for it once per
    /// reconnect, and so does the replay of idempotent events after an outage (<see cref="DxlDeliveryPolicy"/>).
    /// </summary>
    public void SetReceiverCheck(string topic, Func<DxlEvent, CancellationToken, Task>? check)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        _delivery.SetReceiverCheck(topic, check);
    }

    /// <summary>Publishes a response or error response (service side).</summary>
    public Task SendResponseAsync(DxlResponse response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        return _connection.Writer.PublishAsync(response, cancellationToken);
    }

    /// <summary>
    /// Subscribes <paramref name="callback"/> to a topic (DXL wildcard: trailing <c>#</c>). Disposing the result
    /// removes the callback; the MQTT subscription goes when its last callback does.
    /// </summary>
    public Task<IAsyncDisposable> SubscribeAsync(string topic, Func<DxlEvent, Task> callback, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(callback);
        if (topic.Contains('+') || (topic.Contains('#') && !topic.EndsWith('#')))
            throw new ArgumentException($"'{topic}': DXL topics take only a trailing '#' as wildcard.", nameof(topic));
        return _subscriptions.AddAsync(topic, callback, _connection.Lifetime, cancellationToken);
    }

    /// <summary>
    /// Hosts a service: subscribes its topics, registers it with the broker, refreshes before its TTL.
    /// With <paramref name="acknowledgementTimeout"/> it waits for the broker's acknowledgement and throws on an
    /// error response or no answer; without, it returns once the registration is sent (a plain MQTT broker such
    /// as mosquitto never answers) and logs what the broker says.
    /// </summary>
    public Task RegisterServiceAsync(DxlService service, CancellationToken cancellationToken = default, TimeSpan? acknowledgementTimeout = null) =>
        _services.RegisterAsync(service, acknowledgementTimeout, cancellationToken);

    /// <summary>Unregisters the service and unsubscribes its topics.</summary>
    public Task UnregisterServiceAsync(DxlService service, CancellationToken cancellationToken = default) =>
        _services.UnregisterAsync(service, cancellationToken);
}
