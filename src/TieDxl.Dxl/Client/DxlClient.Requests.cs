using System.Collections.Concurrent;
using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

public sealed partial class DxlClient
{
    private readonly ConcurrentDictionary<string, PendingRequest> _pending = new(StringComparer.Ordinal);

    private sealed class PendingRequest(string topic)
    {
        public string Topic { get; } = topic;
        public TaskCompletionSource<DxlResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Environment.TickCount64 when published; 0 until then. Read by the liveness monitor.</summary>
        public long SentAt;
    }

    /// <summary>Requests awaiting a response right now.</summary>
    public int PendingRequestCount => _pending.Count;

    /// <summary>
    /// Sends a request and awaits its response, all within <paramref name="timeout"/>. An error response throws
    /// <see cref="DxlErrorResponseException"/>, no answer in time throws <see cref="DxlTimeoutException"/>.
    /// <para>Across a lost connection: while the client reconnects the request waits for the connection and goes out
    /// when it is back; if the time runs out first, <see cref="DxlFabricUnreachableException"/> says since when and
    /// which brokers were tried. A request whose answer was lost with the connection fails with
    /// <see cref="DxlConnectionLostException"/>, unless it is <see cref="DxlRequest.IsIdempotent"/>: then it is sent again
    /// after the reconnect. Right after a reconnect, "no service" (0x80000001) is retried with back-off, and an
    /// idempotent request without an answer is sent again, because services re-register a little after the broker is
    /// back.</para>
    /// </summary>
    public async Task<DxlResponse> RequestAsync(DxlRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "The timeout must be positive.");
        if (string.IsNullOrEmpty(request.MessageId)) request.MessageId = DxlMessage.NewId();
        request.ReplyToTopic = ReplyTopic;
        var messageId = request.MessageId!;
        var topic = request.DestinationTopic;
        var deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        var resendsAfterLoss = 0;
        var settleRetries = 0;
        var publishFailed = false;
        while (true)
        {
            if (publishFailed || !_connectionGate.IsCompleted || (_livenessCheckRunning && HasBeenUnreachableFor(timeout)))
                await WaitForConnectionAsync($"The request on '{topic}'", timeout, deadline, cancellationToken).ConfigureAwait(false);
            publishFailed = false;
            var pending = new PendingRequest(topic);
            // Registered before publishing: the response can arrive before PublishAsync returns. The same message id
            // on every attempt: a late answer to an earlier attempt completes the request too.
            if (!_pending.TryAdd(messageId, pending))
                throw new ArgumentException($"A request with message id {messageId} is already pending.", nameof(request));
            try
            {
                var sentAt = Environment.TickCount64;
                var settling = IsSettling(sentAt);
                Volatile.Write(ref pending.SentAt, sentAt);
                try
                {
                    await PublishAsync(request, cancellationToken).ConfigureAwait(false);
                }
                catch (DxlConnectionException) when (CanWaitForReconnect(deadline))
                {
                    // The write did not complete: wait for the connection, then send it. The pause keeps a connection
                    // that MQTTnet has not yet declared lost from turning this into a busy loop.
                    publishFailed = true;
                    await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var remaining = deadline - Environment.TickCount64;
                // Right after a reconnect a request may reach the broker before its service re-subscribed and vanish.
                var shortWait = settling && request.IsIdempotent;
                var wait = shortWait
                    ? Math.Min(remaining, (long)Timings.SettleFirstAnswerWait.TotalMilliseconds << Math.Min(settleRetries, 4))
                    : remaining;
                DxlResponse response;
                try
                {
                    response = await pending.Completion.Task.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(1, wait)), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException) when (shortWait && deadline - Environment.TickCount64 > 0)
                {
                    settleRetries++;
                    continue;
                }
                catch (TimeoutException)
                {
                    throw NoAnswer(topic, messageId, timeout);
                }
                catch (DxlConnectionLostException) when (request.IsIdempotent && resendsAfterLoss < MaxResendsAfterLoss && CanWaitForReconnect(deadline))
                {
                    resendsAfterLoss++;
                    continue;
                }

                if (response is DxlErrorResponse error)
                {
                    if (error.Code == DxlErrorCodes.ServiceNotFound && settling)
                    {
                        // "No service" means the broker delivered it to nobody: safe to retry for any request.
                        var backOff = Math.Min(2000, (long)Timings.ServiceNotFoundFirstBackOff.TotalMilliseconds << Math.Min(settleRetries, 4));
                        if (deadline - Environment.TickCount64 > backOff)
                        {
                            settleRetries++;
                            await Task.Delay(TimeSpan.FromMilliseconds(backOff), cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                    }
                    throw new DxlErrorResponseException(topic, error);
                }
                return response;
            }
            finally
            {
                _pending.TryRemove(new KeyValuePair<string, PendingRequest>(messageId, pending));
            }
        }
    }

    /// <summary>
    /// Proves the reply topic works end to end: publishes a response to this client's own reply topic and waits
    /// for it to come back through the broker.
    /// </summary>
    public async Task PingReplyTopicAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var id = DxlMessage.NewId();
        var pending = new PendingRequest(ReplyTopic);
        _pending[id] = pending;
        try
        {
            await PublishAsync(new DxlResponse { DestinationTopic = ReplyTopic, RequestMessageId = id }, cancellationToken).ConfigureAwait(false);
            try
            {
                await pending.Completion.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw NoAnswer(ReplyTopic, id, timeout);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private void OnResponse(DxlResponse response)
    {
        var id = response.RequestMessageId;
        if (id is not null && _pending.TryRemove(id, out var pending))
            pending.Completion.TrySetResult(response);
        else
            _log(DxlLogLevel.Debug, $"DXL client {ClientId}: response to unknown or expired request {id}");
    }

    private void FailAllPending(Exception error)
    {
        foreach (var key in _pending.Keys)
            if (_pending.TryRemove(key, out var pending))
                pending.Completion.TrySetException(error);
    }

    /// <summary>Publishes an event; completes when the bytes were handed to the connection. Fails at once if not connected.</summary>
    public Task SendEventAsync(DxlEvent dxlEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dxlEvent);
        return PublishAsync(dxlEvent, cancellationToken);
    }

    /// <summary>
    /// Publishes an event, riding through a reconnect: while the client reconnects it waits for the connection (at most
    /// <paramref name="timeout"/>), and when the connection drops before the write completed it publishes again after
    /// the reconnect. Completes only once the broker has read the event (an MQTT ping sent after it was answered; one
    /// ping confirms every event written before it). The fabric does not acknowledge events: a subscriber may receive
    /// a re-published event twice.
    /// </summary>
    public async Task SendEventAsync(DxlEvent dxlEvent, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dxlEvent);
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "The timeout must be positive.");
        var deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        while (true)
        {
            // Always through the wait: after a failed attempt the gate may still be open for a moment.
            await WaitForConnectionAsync($"The event for '{dxlEvent.DestinationTopic}'", timeout, deadline, cancellationToken).ConfigureAwait(false);
            try
            {
                await PublishAsync(dxlEvent, cancellationToken).ConfigureAwait(false);
                // Written is not yet read: bytes in a socket buffer die with a broker that crashes now. The broker
                // answers a ping only after it has handled everything sent before it, so the answer confirms the event.
                if (await ConfirmWrittenAsync().WaitAsync(cancellationToken).ConfigureAwait(false)) return;
            }
            catch (DxlConnectionException) when (CanWaitForReconnect(deadline))
            {
            }
            if (!CanWaitForReconnect(deadline))
                throw Unreachable($"The event for '{dxlEvent.DestinationTopic}' was not confirmed by the broker within {Seconds(timeout)} s", State);
            // Not written, or not confirmed: publish it again on the next connection (a subscriber may see it twice).
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private readonly object _confirmLock = new();
    private TaskCompletionSource<bool>? _openConfirmation;
    private bool _confirming;

    /// <summary>
    /// True once the broker answered a ping written after everything written so far; false when the connection failed
    /// first or the answer took longer than the liveness timeout. Callers share pings: one in flight at a time.
    /// </summary>
    private Task<bool> ConfirmWrittenAsync()
    {
        lock (_confirmLock)
        {
            _openConfirmation ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _openConfirmation.Task;
            if (!_confirming)
            {
                _confirming = true;
                _ = Task.Run(RunConfirmationsAsync);
            }
            return task;
        }
    }

    private async Task RunConfirmationsAsync()
    {
        while (true)
        {
            TaskCompletionSource<bool> batch;
            lock (_confirmLock)
            {
                if (_openConfirmation is null)
                {
                    _confirming = false;
                    return;
                }
                batch = _openConfirmation;
                _openConfirmation = null;
            }
            var confirmed = false;
            var broker = CurrentBroker;
            var startedAt = Environment.TickCount64;
            try
            {
                var ping = _mqtt.PingAsync(CancellationToken.None);
                try
                {
                    await ping.WaitAsync(Timings.LivenessCheckTimeout).ConfigureAwait(false);
                    confirmed = true;
                    Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
                }
                catch (TimeoutException) when (Volatile.Read(ref _lastReceivedTicks) <= startedAt && broker is not null && CurrentBroker == broker)
                {
                    // Nothing at all came back while waiting: the same verdict as a failed liveness check.
                    HandleConnectionLost($"the broker did not answer an MQTT ping within {Seconds(Timings.LivenessCheckTimeout)} s after events were written, " +
                                         "with nothing received meanwhile: the connection is silent (broker frozen, network dropping packets?) and was closed",
                        startedAt);
                    throw;
                }
                finally
                {
                    if (!confirmed)
                        _ = ping.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
            catch (Exception e)
            {
                _log(DxlLogLevel.Debug, $"DXL client {ClientId}: events not confirmed by the broker: {e.Message}");
            }
            batch.TrySetResult(confirmed);
        }
    }

    /// <summary>Publishes a response or error response (service side).</summary>
    public Task SendResponseAsync(DxlResponse response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        return PublishAsync(response, cancellationToken);
    }
}
