using System.Threading.Channels;
using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

/// <summary>
/// The topics a client listens on: event callbacks by topic filter, and the request topics of hosted services
/// (counted, since services may share one). An MQTT subscription exists while either needs its topic. Events are
/// queued off the MQTT receive loop and dispatched by one reader, in arrival order.
/// </summary>
internal sealed class DxlSubscriptions
{
    /// <summary>Events waiting for their callbacks; beyond this an event is dropped and logged as an error.</summary>
    private const int EventQueueCapacity = 65_536;

    private readonly MqttWriter _writer;
    private readonly string _clientId;
    private readonly DxlLogSink _log;
    private readonly object _lock = new();
    // Topic filter → callbacks. Copy-on-write arrays so dispatch reads without locking.
    private readonly Dictionary<string, EventSubscription[]> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _serviceTopicRefs = new(StringComparer.Ordinal);
    private readonly Channel<DxlEvent> _queue;
    private readonly Task _dispatcher;
    private volatile bool _hasWildcards;

    public DxlSubscriptions(MqttWriter writer, string clientId, string replyTopic, DxlLogSink log)
    {
        _writer = writer;
        _clientId = clientId;
        ReplyTopic = replyTopic;
        _log = log;
        _queue = Channel.CreateBounded<DxlEvent>(new BoundedChannelOptions(EventQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        _dispatcher = Task.Run(DispatchAsync);
    }

    public string ReplyTopic { get; }

    private sealed class EventSubscription(DxlSubscriptions owner, string topic, Func<DxlEvent, Task> callback, CancellationToken lifetime) : IAsyncDisposable
    {
        private int _disposed;
        public string Topic { get; } = topic;
        public Func<DxlEvent, Task> Callback { get; } = callback;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _disposed, 1) == 0 ? new ValueTask(owner.RemoveAsync(this, lifetime)) : ValueTask.CompletedTask;
    }

    /// <summary>Adds a callback; the MQTT subscription is made for the first one of its topic.</summary>
    public async Task<IAsyncDisposable> AddAsync(string topic, Func<DxlEvent, Task> callback, CancellationToken lifetime, CancellationToken cancellationToken)
    {
        var subscription = new EventSubscription(this, topic, callback, lifetime);
        bool first;
        lock (_lock)
        {
            first = !_events.TryGetValue(topic, out var existing) && !_serviceTopicRefs.ContainsKey(topic);
            _events[topic] = existing is null ? [subscription] : [.. existing, subscription];
            if (DxlTopics.IsWildcard(topic)) _hasWildcards = true;
        }
        if (!first) return subscription;
        try
        {
            await _writer.SubscribeAsync([topic], cancellationToken).ConfigureAwait(false);
        }
        catch (DxlSubscriptionRefusedException)
        {
            // Refused: nothing will ever arrive, so the callback is not kept (nor subscribed again after a reconnect).
            await RemoveAsync(subscription, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return subscription;
    }

    private async Task RemoveAsync(EventSubscription subscription, CancellationToken lifetime)
    {
        var last = false;
        lock (_lock)
        {
            if (_events.TryGetValue(subscription.Topic, out var existing))
            {
                var remaining = Array.FindAll(existing, s => !ReferenceEquals(s, subscription));
                if (remaining.Length > 0) _events[subscription.Topic] = remaining;
                else
                {
                    _events.Remove(subscription.Topic);
                    last = !_serviceTopicRefs.ContainsKey(subscription.Topic);
                }
            }
            _hasWildcards = _events.Keys.Any(DxlTopics.IsWildcard);
        }
        if (last) await _writer.UnsubscribeAsync(subscription.Topic, lifetime.IsCancellationRequested ? CancellationToken.None : lifetime).ConfigureAwait(false);
    }

    /// <summary>A hosted service needs these request topics; returns those that need an MQTT subscription now.</summary>
    public List<string> AddServiceTopics(IEnumerable<string> topics) => ChangeServiceTopics(topics, +1);

    /// <summary>A hosted service no longer needs these request topics; returns those to unsubscribe.</summary>
    public List<string> RemoveServiceTopics(IEnumerable<string> topics) => ChangeServiceTopics(topics, -1);

    private List<string> ChangeServiceTopics(IEnumerable<string> topics, int delta)
    {
        var changed = new List<string>();
        lock (_lock)
        {
            foreach (var topic in topics)
            {
                _serviceTopicRefs.TryGetValue(topic, out var count);
                if (delta < 0 && count == 0) continue;
                var now = count + delta;
                if (now == 0) _serviceTopicRefs.Remove(topic);
                else _serviceTopicRefs[topic] = now;
                // Subscribed by the first user and unsubscribed after the last, whether event callback or service.
                if ((delta > 0 ? count == 0 : now == 0) && !_events.ContainsKey(topic)) changed.Add(topic);
            }
        }
        return changed;
    }

    /// <summary>Every MQTT topic filter the client needs: its reply topic, event topics and service topics.</summary>
    public List<string> AllTopics()
    {
        var topics = new List<string> { ReplyTopic };
        lock (_lock)
        {
            topics.AddRange(_events.Keys);
            foreach (var topic in _serviceTopicRefs.Keys)
                if (!_events.ContainsKey(topic)) topics.Add(topic);
        }
        return topics;
    }

    /// <summary>Queues an event for its callbacks (called on the MQTT receive loop; never blocks).</summary>
    public void Enqueue(DxlEvent dxlEvent)
    {
        if (!_queue.Writer.TryWrite(dxlEvent))
            _log(DxlLogLevel.Error, $"DXL client {_clientId}: event on '{dxlEvent.DestinationTopic}' dropped: callbacks are {EventQueueCapacity} events behind");
    }

    /// <summary>No more events; waits (bounded) for the callbacks still running.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        try { await _dispatcher.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false); }
        catch (TimeoutException) { _log(DxlLogLevel.Warning, $"DXL client {_clientId}: event callbacks still running at disconnect"); }
    }

    private async Task DispatchAsync()
    {
        await foreach (var dxlEvent in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            foreach (var subscription in Matching(dxlEvent.DestinationTopic))
            {
                try
                {
                    await subscription.Callback(dxlEvent).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    _log(DxlLogLevel.Error, $"DXL client {_clientId}: event callback for '{subscription.Topic}' failed: {e.Message}");
                }
            }
        }
    }

    /// <summary>Exact topic first, then trailing-# patterns from the most specific.</summary>
    private List<EventSubscription> Matching(string topic)
    {
        var result = new List<EventSubscription>(2);
        lock (_lock)
        {
            if (_events.TryGetValue(topic, out var exact)) result.AddRange(exact);
            if (_hasWildcards)
                foreach (var pattern in DxlTopics.WildcardPatterns(topic))
                    if (_events.TryGetValue(pattern, out var wild)) result.AddRange(wild);
        }
        return result;
    }
}
