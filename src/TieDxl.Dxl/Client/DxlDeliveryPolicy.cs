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
/// </list>
/// Hand-written rather than a Polly pipeline: each rule turns on why an attempt failed against the connection's own
/// state (gate, settle window, an answer lost with the line), and the first attempt must cost nothing extra.
/// </summary>
internal sealed class DxlDeliveryPolicy(IDxlDeliveryLink link, PendingRequests pending)
{
    /// <summary>An idempotent request whose answer was lost with the connection is sent again after each reconnect, at most this often.</summary>
    public const int MaxResendsAfterLoss = 3;

    /// <summary>Before a failed write is tried again: keeps a connection that MQTTnet has not yet declared lost from making a busy loop.</summary>
    private static readonly TimeSpan WriteRetryPause = TimeSpan.FromMilliseconds(10);

    /// <summary>Before an unconfirmed event is published again.</summary>
    private static readonly TimeSpan EventRetryPause = TimeSpan.FromMilliseconds(20);

    private const long MaxServiceNotFoundBackOffMs = 2000;

    private enum Outcome { Answered, WriteFailed, AnswerLost, NoAnswerYet }

    private readonly record struct Attempt(Outcome Outcome, DxlResponse? Response = null);

    public async Task<DxlResponse> RequestAsync(DxlRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = link.NowMs + (long)Math.Ceiling(timeout.TotalMilliseconds);
        int resendsAfterLoss = 0, settleRetries = 0;
        var mustWait = false;
        while (true)
        {
            if (mustWait || !link.IsReady(timeout))
                await link.WaitUntilReadyAsync($"The request on '{request.DestinationTopic}'", timeout, deadline, cancellationToken).ConfigureAwait(false);
            mustWait = false;
            var settling = link.IsSettling(link.NowMs);
            var attempt = await AttemptAsync(request, timeout, deadline, settling, settleRetries, resendsAfterLoss, cancellationToken).ConfigureAwait(false);
            switch (attempt.Outcome)
            {
                case Outcome.WriteFailed:
                    mustWait = true;
                    await link.DelayAsync(WriteRetryPause, cancellationToken).ConfigureAwait(false);
                    continue;
                case Outcome.AnswerLost:
                    resendsAfterLoss++;
                    continue;
                case Outcome.NoAnswerYet:
                    settleRetries++;
                    continue;
            }
            if (attempt.Response is not DxlErrorResponse error) return attempt.Response!;
            if (error.Code == DxlErrorCodes.ServiceNotFound && settling && ServiceNotFoundBackOff(settleRetries) is var backOff &&
                deadline - link.NowMs > backOff)
            {
                settleRetries++;
                await link.DelayAsync(TimeSpan.FromMilliseconds(backOff), cancellationToken).ConfigureAwait(false);
                continue;
            }
            throw new DxlErrorResponseException(request.DestinationTopic, error);
        }
    }

    /// <summary>One send of a request and the wait for its answer; failures that no rule retries are thrown.</summary>
    private async Task<Attempt> AttemptAsync(DxlRequest request, TimeSpan timeout, long deadline, bool settling, int settleRetries,
        int resendsAfterLoss, CancellationToken cancellationToken)
    {
        var messageId = request.MessageId!;
        // Registered before publishing: the response can arrive before the publish returns.
        var registration = pending.Add(messageId, request.DestinationTopic);
        try
        {
            Volatile.Write(ref registration.SentAt, link.NowMs);
            try
            {
                await link.PublishAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (DxlConnectionException) when (link.CanWaitForReconnect(deadline))
            {
                return new Attempt(Outcome.WriteFailed);
            }
            var remaining = deadline - link.NowMs;
            // Right after a reconnect a request may reach the broker before its service re-subscribed, and vanish.
            var shortWait = settling && request.IsIdempotent;
            var wait = shortWait ? Math.Min(remaining, (long)link.Timings.SettleFirstAnswerWait.TotalMilliseconds << Math.Min(settleRetries, 4)) : remaining;
            try
            {
                var answer = await link.WaitForAnswerAsync(registration.Task, TimeSpan.FromMilliseconds(Math.Max(1, wait)), cancellationToken).ConfigureAwait(false);
                return new Attempt(Outcome.Answered, answer);
            }
            catch (TimeoutException) when (shortWait && deadline - link.NowMs > 0)
            {
                return new Attempt(Outcome.NoAnswerYet);
            }
            catch (TimeoutException)
            {
                throw link.NoAnswer(request.DestinationTopic, messageId, timeout);
            }
            catch (DxlConnectionLostException) when (request.IsIdempotent && resendsAfterLoss < MaxResendsAfterLoss && link.CanWaitForReconnect(deadline))
            {
                return new Attempt(Outcome.AnswerLost);
            }
        }
        finally
        {
            pending.Remove(messageId, registration);
        }
    }

    private long ServiceNotFoundBackOff(int settleRetries) =>
        Math.Min(MaxServiceNotFoundBackOffMs, (long)link.Timings.ServiceNotFoundFirstBackOff.TotalMilliseconds << Math.Min(settleRetries, 4));

    /// <summary>Publishes an event and returns once the broker confirmed reading it, riding through reconnects within <paramref name="timeout"/>.</summary>
    public async Task SendEventAsync(DxlEvent dxlEvent, TimeSpan timeout, CancellationToken cancellationToken)
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
}
