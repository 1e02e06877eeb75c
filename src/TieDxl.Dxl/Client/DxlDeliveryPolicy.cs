using TieDxl.Dxl.Messages;
using static TieDxl.Dxl.Client.OutageTracker;

namespace TieDxl.Dxl.Client;

/// <summary>
/// Every rule about getting a request answered, or an event read by the broker, across a lost connection. In order:
/// <list type="number">
/// <item>Nothing goes out while the client reconnects: an operation waits for the connection, bounded by its own
/// deadline, and fails with <see cref="DxlFabricUnreachableException"/> (since when, brokers tried) when time runs
/// out or the fabric has already been unreachable for a whole timeout.</item>
/// <item>A message whose write failed is written again once the connection is back (a request keeps its message id,
/// so a late answer to an earlier attempt completes it too).</item>
/// <item>A request whose answer was lost with the connection fails with <see cref="DxlConnectionLostException"/>,
/// unless it is idempotent: then it is sent again after the reconnect, at most <see cref="MaxResendsAfterLoss"/> times.</item>
/// <item>Inside the settle window after a reconnect services are still re-registering: an idempotent request waits
/// a short, doubling time for its answer and is sent again; "no service" (0x80000001) is retried after a doubling
/// back-off for any request, since the broker delivered it to nobody.</item>
/// <item>An event counts as delivered once the broker confirmed reading it; otherwise it is published again on the
/// next connection (a subscriber may see it twice: the fabric acknowledges no event).</item>
/// <item>After a reconnect, an event on a topic whose receivers the layer above can check (<see cref="EventReceivers"/>)
/// waits until that check says they are back: published earlier, it would reach nobody.</item>
/// <item>An idempotent event (<see cref="DxlEvent.IsIdempotent"/>) that went out across a reconnect is published again
/// once its receivers are back; and the idempotent events the broker confirmed from one second before an outage (counted
/// back from when the drop was noticed, less <see cref="RecentEvents.LateNotice"/>) to
/// its end are published again after it, by the client itself, since a broker that crashes takes with it what it
/// had read but not passed on.</item>
/// </list>
/// Hand-written rather than a Polly pipeline: each rule turns on why an attempt failed against the connection's own
/// state (gate, settle window, an answer lost with the line), and the first attempt must cost nothing extra.
/// </summary>
internal sealed class DxlDeliveryPolicy(IDxlDeliveryLink link, PendingRequests pending)
{
    /// <summary>How long a replayed event may wait for the connection.</summary>
    private static readonly TimeSpan ReplayTimeout = TimeSpan.FromSeconds(30);

    private readonly EventReceivers _receivers = new();
    private readonly RecentEvents _recent = new();

    // The reconnect whose replay is done: until then the events before the outage are all kept.
    private int _replayedThrough;

    /// <summary>An idempotent request whose answer was lost with the connection is sent again after each reconnect, at most this often.</summary>
    public const int MaxResendsAfterLoss = 3;

    /// <summary>Before a failed write is tried again: keeps a connection that MQTTnet has not yet declared lost from making a busy loop.</summary>
    private static readonly TimeSpan WriteRetryPause = TimeSpan.FromMilliseconds(10);

    /// <summary>Before an unconfirmed event is published again.</summary>
    private static readonly TimeSpan EventRetryPause = TimeSpan.FromMilliseconds(20);

    private const long MaxServiceNotFoundBackOffMs = 2000;

    /// <remarks>One state machine per request: the answer is awaited here, the rules' decisions are in the helpers below.</remarks>
    public async Task<DxlResponse> RequestAsync(DxlRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var messageId = request.MessageId!;
        var deadline = link.NowMs + (long)Math.Ceiling(timeout.TotalMilliseconds);
        int resendsAfterLoss = 0, settleRetries = 0;
        var mustWait = false;
        while (true)
        {
            if (mustWait || !link.IsReady(timeout))
                await link.WaitUntilReadyAsync($"The request on '{request.DestinationTopic}'", timeout, deadline, cancellationToken).ConfigureAwait(false);
            mustWait = false;
            var settling = link.IsSettling(link.NowMs);
            // Right after a reconnect a request may reach the broker before its service re-subscribed, and vanish.
            var shortWait = settling && request.IsIdempotent;
            // Registered before publishing: the response can arrive before the publish returns.
            var registration = pending.Add(messageId, request.DestinationTopic);
            DxlResponse response;
            try
            {
                if (!await TryWriteAsync(request, registration, deadline, cancellationToken).ConfigureAwait(false))
                {
                    mustWait = true;
                    await link.DelayAsync(WriteRetryPause, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                try
                {
                    response = await link.WaitForAnswerAsync(registration.Task, AnswerWait(shortWait, deadline, settleRetries), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException) when (shortWait && deadline - link.NowMs > 0)
                {
                    settleRetries++;
                    continue;
                }
                catch (TimeoutException)
                {
                    throw link.NoAnswer(request.DestinationTopic, messageId, timeout);
                }
                catch (DxlConnectionLostException) when (request.IsIdempotent && resendsAfterLoss < MaxResendsAfterLoss && link.CanWaitForReconnect(deadline))
                {
                    resendsAfterLoss++;
                    continue;
                }
            }
            finally
            {
                pending.Remove(messageId, registration);
            }
            if (response is not DxlErrorResponse error) return response;
            if (NoServiceBackOff(error, settling, settleRetries, deadline) is not { } backOff)
                throw new DxlErrorResponseException(request.DestinationTopic, error);
            settleRetries++;
            await link.DelayAsync(backOff, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the request; false when the write failed and the request can wait for the reconnect to go again.</summary>
    private async ValueTask<bool> TryWriteAsync(DxlRequest request, PendingRequest registration, long deadline, CancellationToken cancellationToken)
    {
        Volatile.Write(ref registration.SentAt, link.NowMs);
        try
        {
            await link.PublishAsync(request, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DxlConnectionException) when (link.CanWaitForReconnect(deadline))
        {
            return false;
        }
    }

    /// <summary>How long to wait for the answer: the time left, or in the settle window a short wait that doubles each time.</summary>
    private TimeSpan AnswerWait(bool shortWait, long deadline, int settleRetries)
    {
        var remaining = deadline - link.NowMs;
        var wait = shortWait ? Math.Min(remaining, (long)link.Timings.SettleFirstAnswerWait.TotalMilliseconds << Math.Min(settleRetries, 4)) : remaining;
        return TimeSpan.FromMilliseconds(Math.Max(1, wait));
    }

    /// <summary>The pause before "no service" is tried again: only in the settle window and when it leaves time for an answer; else null.</summary>
    private TimeSpan? NoServiceBackOff(DxlErrorResponse error, bool settling, int settleRetries, long deadline)
    {
        if (error.Code != DxlErrorCodes.ServiceNotFound || !settling) return null;
        var backOff = ServiceNotFoundBackOff(settleRetries);
        return deadline - link.NowMs > backOff ? TimeSpan.FromMilliseconds(backOff) : null;
    }

    private long ServiceNotFoundBackOff(int settleRetries) =>
        Math.Min(MaxServiceNotFoundBackOffMs, (long)link.Timings.ServiceNotFoundFirstBackOff.TotalMilliseconds << Math.Min(settleRetries, 4));

    /// <summary>How the receivers of <paramref name="topic"/> are known to be back after a reconnect (null: no check).</summary>
    public void SetReceiverCheck(string topic, Func<DxlEvent, CancellationToken, Task>? check) => _receivers.SetCheck(topic, check);

    /// <summary>Publishes an event and returns once the broker confirmed reading it, riding through reconnects within <paramref name="timeout"/>.</summary>
    public async Task SendEventAsync(DxlEvent dxlEvent, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reconnects = link.ReconnectCount;
        await WaitForReceiversAsync(dxlEvent, reconnects, cancellationToken).ConfigureAwait(false);
        await PublishConfirmedAsync(dxlEvent, timeout, cancellationToken).ConfigureAwait(false);
        if (!dxlEvent.IsIdempotent) return;
        _recent.Remember(dxlEvent, link.UtcNow, keepAll: !link.IsConnected || link.ReconnectCount != Volatile.Read(ref _replayedThrough));
        if (link.ReconnectCount == reconnects) return;
        // It went out across a reconnect, perhaps before its receivers were back: again, once they are.
        await WaitForReceiversAsync(dxlEvent, link.ReconnectCount, cancellationToken).ConfigureAwait(false);
        await PublishConfirmedAsync(dxlEvent, timeout, cancellationToken).ConfigureAwait(false);
    }

    private Task WaitForReceiversAsync(DxlEvent dxlEvent, int reconnects, CancellationToken cancellationToken) =>
        _receivers.WaitUntilBackAsync(dxlEvent, reconnects, link.LastOutage, link.UtcNow, cancellationToken);

    private async Task PublishConfirmedAsync(DxlEvent dxlEvent, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var what = $"The event for '{dxlEvent.DestinationTopic}'";
        var deadline = link.NowMs + (long)Math.Ceiling(timeout.TotalMilliseconds);
        while (true)
        {
            // Always through the wait: after a failed attempt the gate may still be open for a moment.
            await link.WaitUntilReadyAsync(what, timeout, deadline, cancellationToken).ConfigureAwait(false);
            try
            {
                await link.PublishAsync(dxlEvent, cancellationToken).ConfigureAwait(false);
                // Written is not yet read: bytes in a socket buffer die with a broker that crashes now.
                if (await link.ConfirmWrittenAsync().WaitAsync(cancellationToken).ConfigureAwait(false)) return;
            }
            catch (DxlConnectionException) when (link.CanWaitForReconnect(deadline))
            {
                // Not written: published again on the next connection, below.
            }
            if (!link.CanWaitForReconnect(deadline))
                throw link.Unreachable($"{what} was not confirmed by the broker within {Seconds(timeout)} s");
            await link.DelayAsync(EventRetryPause, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>After a reconnect: the idempotent events confirmed around the outage go out again once their receivers are back.</summary>
    public async Task ReplayAfterAsync(DxlOutage outage, CancellationToken lifetime)
    {
        var reconnects = link.ReconnectCount;
        try
        {
            foreach (var dxlEvent in _recent.Around(outage))
            {
                await WaitForReceiversAsync(dxlEvent, reconnects, lifetime).ConfigureAwait(false);
                await PublishConfirmedAsync(dxlEvent, ReplayTimeout, lifetime).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is DxlException or OperationCanceledException or ObjectDisposedException)
        {
            // The fabric went away again (the next reconnect replays what was sent before it), or the client closed.
        }
        int done;
        while ((done = Volatile.Read(ref _replayedThrough)) < reconnects && Interlocked.CompareExchange(ref _replayedThrough, reconnects, done) != done) { }
    }
}
