using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

public enum DxlConnectionState { Disconnected, Connecting, Connected, Reconnecting, Closed }

/// <summary>
/// A DXL client over MQTTnet: MQTT 3.1.1, clean session, QoS 0, mutual TLS. Many requests in flight on one
/// connection; events; hosted services. Incoming messages are dispatched off the MQTT receive loop.
/// </summary>
public sealed partial class DxlClient : IAsyncDisposable
{
    /// <summary>The broker drops envelopes over this size (messageSizeLimit, 1 MiB).</summary>
    public const int MaxMessageSize = 1_048_576;

    /// <summary>Events waiting for their callbacks; beyond this an event is dropped and logged as an error.</summary>
    private const int EventQueueCapacity = 65_536;

    private readonly DxlLogSink _log;
    private readonly IMqttClient _mqtt;
    private readonly object _stateLock = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Channel<DxlEvent> _events;
    private readonly Task _eventWorker;
    private readonly DxlConnector _connector;
    private DxlConnectionState _state = DxlConnectionState.Disconnected;
    private DxlBroker? _currentBroker;
    private Task? _reconnectLoop;
    private long _droppedEvents;

    public DxlClient(DxlClientConfig config, DxlLogSink? log = null)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        _log = log ?? ((_, _) => { });
        ClientId = config.ClientId;
        ReplyTopic = DxlTopics.ClientReplyPrefix + ClientId;
        _mqtt = new MqttClientFactory().CreateMqttClient();
        _mqtt.ApplicationMessageReceivedAsync += OnMqttMessageAsync;
        _mqtt.DisconnectedAsync += OnMqttDisconnectedAsync;
        _connector = new DxlConnector(config, _mqtt, _log) { AttemptFailed = OnConnectAttemptFailed };
        _events = Channel.CreateBounded<DxlEvent>(new BoundedChannelOptions(EventQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        _eventWorker = Task.Run(DispatchEventsAsync);
        _livenessMonitor = Task.Run(MonitorLivenessAsync);
    }

    public DxlClientConfig Config { get; }
    public string ClientId { get; }

    /// <summary><c>/mcafee/client/{ClientId}</c>.</summary>
    public string ReplyTopic { get; }

    public DxlConnectionState State
    {
        get { lock (_stateLock) return _state; }
    }

    public bool IsConnected => State == DxlConnectionState.Connected && _mqtt.IsConnected;

    /// <summary>The broker of the live connection, or null.</summary>
    public DxlBroker? CurrentBroker
    {
        get { lock (_stateLock) return _state == DxlConnectionState.Connected ? _currentBroker : null; }
    }

    /// <summary>Events dropped because callbacks could not keep up (each one was also logged as an error).</summary>
    public long DroppedEvents => Interlocked.Read(ref _droppedEvents);

    /// <summary>Raised on every state change (from a thread-pool thread).</summary>
    public event EventHandler<DxlConnectionState>? StateChanged;

    private void SetState(DxlConnectionState state, DxlBroker? broker = null)
    {
        lock (_stateLock)
        {
            if (_state == state || _state == DxlConnectionState.Closed) return;
            _state = state;
            _currentBroker = broker;
            UpdateGateLocked(state);
        }
        RaiseStateChanged(state, broker);
    }

    private void RaiseStateChanged(DxlConnectionState state, DxlBroker? broker)
    {
        _log(DxlLogLevel.Debug, $"DXL client {ClientId}: {state}{(broker is null ? "" : " to " + broker)}");
        var handler = StateChanged;
        if (handler is not null) ThreadPool.QueueUserWorkItem(_ => handler(this, state));
    }

    /// <summary>Probes and orders the brokers, connects, subscribes the reply topic. Throws DxlConnectionException/DxlTlsException.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(State == DxlConnectionState.Closed, this);
        if (IsConnected) return;
        SetState(DxlConnectionState.Connecting);
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            var broker = await _connector.ConnectRunAsync(Config.ConnectRetries, linked.Token).ConfigureAwait(false);
            await OnConnectedAsync(linked.Token).ConfigureAwait(false);
            Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
            lock (_stateLock) _outage = null; // connected again by the application after giving up
            SetState(DxlConnectionState.Connected, broker);
        }
        catch
        {
            SetState(DxlConnectionState.Disconnected);
            await SafeMqttDisconnectAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>After every (re)connect: subscribe everything (sessions are clean), then register services.</summary>
    private async Task OnConnectedAsync(CancellationToken cancellationToken)
    {
        var topics = SubscribedTopicsSnapshot();
        if (topics.Count > 0)
        {
            var builder = new MqttClientSubscribeOptionsBuilder();
            foreach (var topic in topics)
                builder.WithTopicFilter(topic, MqttQualityOfServiceLevel.AtMostOnce);
            await _mqtt.SubscribeAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        }
        RegisterAllServices();
    }

    /// <summary>Unregisters services, flushes queued publishes, unsubscribes, disconnects.</summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        if (State == DxlConnectionState.Closed) return;
        _log(DxlLogLevel.Debug, $"DXL client {ClientId}: disconnecting");
        SetState(DxlConnectionState.Closed);
        if (_mqtt.IsConnected)
        {
            try
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(TimeSpan.FromSeconds(10));
                await UnregisterAllServicesAsync(bounded.Token).ConfigureAwait(false);
                await WaitForPublishesAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or DxlException or MqttCommunicationException)
            {
                _log(DxlLogLevel.Warning, $"DXL client {ClientId}: orderly shutdown incomplete: {e.Message}");
            }
        }
        _lifetime.Cancel();
        StopServiceTimers();
        FailAllPending(new DxlConnectionException("The DXL client was disconnected while the request was pending."));
        lock (_stateLock) _outage = null;
        await SafeMqttDisconnectAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        try { await _eventWorker.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false); }
        catch (TimeoutException) { _log(DxlLogLevel.Warning, $"DXL client {ClientId}: event callbacks still running at disconnect"); }
        foreach (var background in new[] { _reconnectLoop, _livenessMonitor })
        {
            if (background is null) continue;
            try { await background.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync().ConfigureAwait(false);
        _mqtt.Dispose();
        _lifetime.Dispose();
    }

    private async Task SafeMqttDisconnectAsync()
    {
        try
        {
            if (_mqtt.IsConnected)
                await _mqtt.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log(DxlLogLevel.Debug, $"DXL client {ClientId}: MQTT disconnect: {e.Message}");
        }
    }

    private Task OnMqttDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        var reason = e.Exception?.Message ?? e.ReasonString ?? e.Reason.ToString();
        HandleConnectionLost(reason, deadCheckStartedAt: null);
        return Task.CompletedTask;
    }

    /// <summary>Reconnects until it succeeds or the client closes; a broker whose connection went silent (<paramref name="deadBroker"/>) is tried last.</summary>
    private async Task ReconnectLoopAsync(DxlBroker? deadBroker)
    {
        await AbandonConnectionAsync().ConfigureAwait(false);
        // Unlimited retries with back-off, brokers re-probed each run (as the reference client does).
        while (!_lifetime.IsCancellationRequested)
        {
            try
            {
                var broker = await _connector.ConnectRunAsync(-1, _lifetime.Token, deadBroker).ConfigureAwait(false);
                await OnConnectedAsync(_lifetime.Token).ConfigureAwait(false);
                EndOutage(broker);
                SetState(DxlConnectionState.Connected, broker);
                _log(DxlLogLevel.Information, $"DXL client {ClientId}: reconnected to {broker}");
                return;
            }
            catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log(DxlLogLevel.Warning, $"DXL client {ClientId}: reconnect failed: {ex.Message}");
                lock (_stateLock)
                {
                    _lastConnectionError = ex.Message;
                    if (_outage is { } outage) outage.LastError = ex.Message;
                }
                await SafeMqttDisconnectAsync().ConfigureAwait(false);
                try { await Task.Delay(Config.ReconnectDelay, _lifetime.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private Task OnMqttMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        // One ordinary write per message: the liveness monitor reads it instead of timing each request.
        Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
        DxlMessage message;
        try
        {
            var payload = e.ApplicationMessage.Payload;
            message = payload.IsSingleSegment
                ? DxlEnvelope.Decode(payload.First, e.ApplicationMessage.Topic)
                : DxlEnvelope.Decode(payload.ToArray(), e.ApplicationMessage.Topic);
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
                OnResponse(response);
                break;
            case DxlRequest request:
                ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.client.HandleRequestAsync(state.request), (client: this, request), preferLocal: false);
                break;
            case DxlEvent dxlEvent:
                if (!_events.Writer.TryWrite(dxlEvent))
                {
                    Interlocked.Increment(ref _droppedEvents);
                    _log(DxlLogLevel.Error, $"DXL client {ClientId}: event on '{dxlEvent.DestinationTopic}' dropped: callbacks are {EventQueueCapacity} events behind");
                }
                break;
        }
        return Task.CompletedTask;
    }

    /// <summary>Publishes an envelope at QoS 0, refusing oversize messages and wildcard topics before sending.</summary>
    private async Task PublishAsync(DxlMessage message, CancellationToken cancellationToken)
    {
        var topic = message.DestinationTopic;
        if (!DxlTopics.IsPublishable(topic))
            throw new ArgumentException($"Cannot publish to '{topic}': a DXL topic must be non-empty and contain no '+' or '#'.", nameof(message));
        var bytes = DxlEnvelope.Encode(message);
        if (bytes.Length > MaxMessageSize)
            throw new DxlPayloadTooLargeException(topic, bytes.Length, MaxMessageSize);
        if (!_mqtt.IsConnected)
            throw new DxlConnectionException($"Not connected to a DXL broker: the message for '{topic}' was not sent.");

        var applicationMessage = new MqttApplicationMessage
        {
            Topic = topic,
            PayloadSegment = new ArraySegment<byte>(bytes),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtMostOnce,
            Retain = false,
        };
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _publishesInFlight);
        Task write;
        try
        {
            // MQTTnet throws some failures (not connected, disposed) from the call itself, not through the task.
            write = _mqtt.PublishAsync(applicationMessage, CancellationToken.None);
        }
        catch (Exception e)
        {
            PublishEnded();
            if (e is MqttCommunicationException or InvalidOperationException or ObjectDisposedException or IOException)
                throw new DxlConnectionException($"The message for '{topic}' could not be sent: {e.Message}", e);
            throw;
        }
        // Counted until the write itself ends, even when the caller stopped waiting for it. Most writes complete at once.
        if (write.IsCompleted) PublishEnded();
        else _ = write.ContinueWith(static (_, state) => ((DxlClient)state!).PublishEnded(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await AwaitWriteAsync(write, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or ObjectDisposedException or IOException)
        {
            throw new DxlConnectionException($"The message for '{topic}' could not be sent: {e.Message}", e);
        }
    }

    /// <summary>
    /// Waits for an MQTT write that was started without the caller's token. MQTTnet aborts a cancelled write
    /// mid-packet, and half a TLS record on the shared connection breaks it for every other request (the broker
    /// answers with a bad_record_mac alert). So the caller's token only abandons the wait: the write finishes in the
    /// background (a subscribe within MQTTnet's own timeout, a publish when the socket takes it or the connection
    /// fails), and a failure after that is observed and dropped.
    /// </summary>
    private static async Task AwaitWriteAsync(Task write, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled || write.IsCompleted)
        {
            await write.ConfigureAwait(false);
            return;
        }
        try
        {
            await write.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private void PublishEnded()
    {
        if (Interlocked.Decrement(ref _publishesInFlight) == 0) _publishesDrained.Set();
    }

    private int _publishesInFlight;
    private readonly AsyncAutoResetSignal _publishesDrained = new();

    private async Task WaitForPublishesAsync(CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _publishesInFlight) > 0)
            await _publishesDrained.WaitAsync(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
    }

    private async Task MqttSubscribeAsync(string topic, CancellationToken cancellationToken)
    {
        if (!_mqtt.IsConnected) return; // subscribed on the next connect
        var options = new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtMostOnce).Build();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            await AwaitWriteAsync(_mqtt.SubscribeAsync(options, CancellationToken.None), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException)
        {
            throw new DxlConnectionException($"Could not subscribe to '{topic}': {e.Message}", e);
        }
    }

    private async Task MqttUnsubscribeAsync(string topic, CancellationToken cancellationToken)
    {
        if (!_mqtt.IsConnected) return;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            await AwaitWriteAsync(_mqtt.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(topic).Build(), CancellationToken.None), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException)
        {
            _log(DxlLogLevel.Debug, $"DXL client {ClientId}: unsubscribe '{topic}': {e.Message}");
        }
    }

    /// <summary>Every MQTT topic filter this client needs: its reply topic, event topics and service topics.</summary>
    private List<string> SubscribedTopicsSnapshot()
    {
        var topics = new List<string> { ReplyTopic };
        lock (_subscriptionLock)
        {
            foreach (var topic in _eventSubscriptions.Keys) topics.Add(topic);
            foreach (var topic in _serviceTopicRefs.Keys)
                if (!_eventSubscriptions.ContainsKey(topic)) topics.Add(topic);
        }
        return topics;
    }
}

/// <summary>A tiny async signal (no dependency on extra packages).</summary>
internal sealed class AsyncAutoResetSignal
{
    private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Interlocked.Exchange(ref _tcs, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task WaitAsync(TimeSpan max, CancellationToken cancellationToken)
    {
        try { await Volatile.Read(ref _tcs).Task.WaitAsync(max, cancellationToken).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }
}
