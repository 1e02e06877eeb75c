using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

public sealed partial class DxlClient
{
    private readonly object _subscriptionLock = new();
    // Topic filter → callbacks. Copy-on-write arrays so dispatch reads without locking.
    private readonly Dictionary<string, EventSubscription[]> _eventSubscriptions = new(StringComparer.Ordinal);
    private volatile bool _hasWildcardSubscriptions;

    private sealed class EventSubscription(DxlClient owner, string topic, Func<DxlEvent, Task> callback) : IAsyncDisposable
    {
        private int _disposed;
        public string Topic { get; } = topic;
        public Func<DxlEvent, Task> Callback { get; } = callback;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _disposed, 1) == 0 ? new ValueTask(owner.RemoveSubscriptionAsync(this)) : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Subscribes <paramref name="callback"/> to a topic (DXL wildcard: trailing <c>#</c>). Disposing the result
    /// removes the callback; the MQTT subscription goes when its last callback does.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(string topic, Func<DxlEvent, Task> callback, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(callback);
        if (topic.Contains('+') || (topic.Contains('#') && !topic.EndsWith('#')))
            throw new ArgumentException($"'{topic}': DXL topics take only a trailing '#' as wildcard.", nameof(topic));

        var subscription = new EventSubscription(this, topic, callback);
        bool first;
        lock (_subscriptionLock)
        {
            first = !_eventSubscriptions.TryGetValue(topic, out var existing);
            _eventSubscriptions[topic] = existing is null ? [subscription] : [.. existing, subscription];
            if (DxlTopics.IsWildcard(topic)) _hasWildcardSubscriptions = true;
            first &= !_serviceTopicRefs.ContainsKey(topic);
        }
        if (first) await MqttSubscribeAsync(topic, cancellationToken).ConfigureAwait(false);
        return subscription;
    }

    private async Task RemoveSubscriptionAsync(EventSubscription subscription)
    {
        bool last = false;
        lock (_subscriptionLock)
        {
            if (_eventSubscriptions.TryGetValue(subscription.Topic, out var existing))
            {
                var remaining = Array.FindAll(existing, s => !ReferenceEquals(s, subscription));
                if (remaining.Length == 0)
                {
                    _eventSubscriptions.Remove(subscription.Topic);
                    last = !_serviceTopicRefs.ContainsKey(subscription.Topic);
                }
                else
                {
                    _eventSubscriptions[subscription.Topic] = remaining;
                }
            }
            _hasWildcardSubscriptions = _eventSubscriptions.Keys.Any(DxlTopics.IsWildcard);
        }
        if (last) await MqttUnsubscribeAsync(subscription.Topic, _lifetime.IsCancellationRequested ? CancellationToken.None : _lifetime.Token).ConfigureAwait(false);
    }

    /// <summary>One reader: callbacks run in arrival order, off the MQTT receive loop.</summary>
    private async Task DispatchEventsAsync()
    {
        await foreach (var dxlEvent in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            foreach (var subscription in MatchingSubscriptions(dxlEvent.DestinationTopic))
            {
                try
                {
                    await subscription.Callback(dxlEvent).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    _log(DxlLogLevel.Error, $"DXL client {ClientId}: event callback for '{subscription.Topic}' failed: {e.Message}");
                }
            }
        }
    }

    /// <summary>Exact topic first, then trailing-# patterns from the most specific.</summary>
    private List<EventSubscription> MatchingSubscriptions(string topic)
    {
        var result = new List<EventSubscription>(2);
        lock (_subscriptionLock)
        {
            if (_eventSubscriptions.TryGetValue(topic, out var exact)) result.AddRange(exact);
            if (_hasWildcardSubscriptions)
                foreach (var pattern in DxlTopics.WildcardPatterns(topic))
                    if (_eventSubscriptions.TryGetValue(pattern, out var wild)) result.AddRange(wild);
        }
        return result;
    }
}
