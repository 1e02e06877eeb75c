using System.Collections.Concurrent;
using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

/// <summary>
/// After a reconnect the receivers of a topic (a service's own subscriber) come back a little later than the broker,
/// and an event published before they re-subscribed reaches nobody: events have no answer to miss. Where the layer
/// above knows how to tell that they are back (for TIE: one answered lookup), it registers a check for the topic; the
/// check runs once per reconnect, shared by every event that waits for it, bounded, and its failure ends the wait too
/// (a client may be allowed to publish on a topic but not to ask its service anything).
/// </summary>
internal sealed class EventReceivers
{
    /// <summary>A reconnect longer ago than this needs no check: the receivers have long re-subscribed.</summary>
    public static readonly TimeSpan ComebackWindow = TimeSpan.FromSeconds(10);

    /// <summary>The longest a check may hold events back.</summary>
    public static readonly TimeSpan CheckLimit = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Func<DxlEvent, CancellationToken, Task>> _checks = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private readonly Dictionary<string, (int Reconnects, Task Check)> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _backAfter = new(StringComparer.Ordinal);

    public void SetCheck(string topic, Func<DxlEvent, CancellationToken, Task>? check)
    {
        if (check is null) _checks.TryRemove(topic, out _);
        else _checks[topic] = check;
    }

    /// <summary>
    /// Completes when the receivers of <paramref name="dxlEvent"/>'s topic are known to be back after reconnect
    /// number <paramref name="reconnects"/>: at once without a check, before the first reconnect, once the check of
    /// this reconnect passed, or when the reconnect is long past.
    /// </summary>
    public Task WaitUntilBackAsync(DxlEvent dxlEvent, int reconnects, DxlOutage? lastOutage, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var topic = dxlEvent.DestinationTopic;
        if (reconnects == 0 || !_checks.TryGetValue(topic, out var check) || _backAfter.GetValueOrDefault(topic) >= reconnects)
            return Task.CompletedTask;
        if (lastOutage is { } outage && now - outage.ReconnectedAt > ComebackWindow)
        {
            MarkBack(topic, reconnects);
            return Task.CompletedTask;
        }
        Task running;
        lock (_lock)
        {
            // One check per reconnect, whoever asks first (a lookup each time would load the service for nothing).
            if (!_running.TryGetValue(topic, out var current) || current.Reconnects != reconnects)
            {
                current = (reconnects, Task.Run(() => RunCheckAsync(topic, check, dxlEvent, reconnects)));
                _running[topic] = current;
            }
            running = current.Check;
        }
        return running.WaitAsync(cancellationToken);
    }

    private async Task RunCheckAsync(string topic, Func<DxlEvent, CancellationToken, Task> check, DxlEvent dxlEvent, int reconnects)
    {
        using var bound = new CancellationTokenSource(CheckLimit);
        try
        {
            await check(dxlEvent, bound.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Any answer, an error or none within the bound ends the wait: the event goes out anyway.
        }
        MarkBack(topic, reconnects);
    }

    private void MarkBack(string topic, int reconnects) =>
        _backAfter.AddOrUpdate(topic, reconnects, (_, seen) => Math.Max(seen, reconnects));
}

/// <summary>
/// The idempotent events the broker confirmed recently (bounded), for the replay after an outage: a broker that
/// crashes takes with it what it had read but not yet passed on.
/// </summary>
internal sealed class RecentEvents
{
    /// <summary>Events confirmed this shortly before the broker went down may not have reached their receivers.</summary>
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How much later than the broker's death a dropped connection may be noticed (a loaded machine reads the closed
    /// socket late): the window is counted back from when the drop was noticed, so it reaches back this much further.
    /// </summary>
    public static readonly TimeSpan LateNotice = TimeSpan.FromSeconds(2);

    // Kept while no replay is due: the whole window, and a second more than it.
    private static readonly TimeSpan Keep = ReplayWindow + LateNotice + TimeSpan.FromSeconds(1);

    private const int Capacity = 16_384;
    private readonly ConcurrentQueue<(DateTimeOffset At, DxlEvent Event)> _recent = new();

    /// <summary>Keeps an event; old ones go only while <paramref name="keepAll"/> is false (after an outage the last events before it must stay).</summary>
    public void Remember(DxlEvent dxlEvent, DateTimeOffset now, bool keepAll)
    {
        _recent.Enqueue((now, dxlEvent));
        while (_recent.TryPeek(out var oldest) &&
               ((!keepAll && now - oldest.At > Keep) || _recent.Count > Capacity))
            _recent.TryDequeue(out _);
    }

    /// <summary>
    /// The events confirmed from one replay window before the broker may have gone down (the drop noticed, less
    /// <see cref="LateNotice"/>) up to the end of the outage (a confirmation may be recorded just after the drop was noticed).
    /// </summary>
    public List<DxlEvent> Around(DxlOutage outage)
    {
        var from = outage.DisconnectedAt - LateNotice - ReplayWindow;
        var events = new List<DxlEvent>();
        foreach (var (at, dxlEvent) in _recent)
            if (at >= from && at <= outage.ReconnectedAt) events.Add(dxlEvent);
        return events;
    }
}
