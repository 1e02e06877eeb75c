using MQTTnet;
using MQTTnet.Exceptions;
using TieDxl.Dxl.Config;

namespace TieDxl.Dxl.Client;

/// <summary>
/// One outage of a client's connection: from the moment the connection was lost (or found dead) to the reconnect.
/// Events published on the fabric in that window were not received by this client.
/// </summary>
public sealed record DxlOutage(
    DateTimeOffset DisconnectedAt,
    DateTimeOffset ReconnectedAt,
    string Reason,
    DxlBroker? LostBroker,
    DxlBroker ReconnectedBroker,
    IReadOnlyList<string> BrokersTried)
{
    public TimeSpan Duration => ReconnectedAt - DisconnectedAt;
}

/// <summary>
/// Timings of the client's own fault handling. The defaults give: a silent connection noticed within about 11 s of
/// the first unanswered request and within about 36 s when the session only listens, whatever keep-alive the config
/// sends to the broker. Tests shorten them.
/// </summary>
internal sealed record DxlResilienceTimings
{
    public static DxlResilienceTimings Default { get; } = new();

    /// <summary>How often the monitor looks at the counters (it does nothing else unless something is overdue).</summary>
    public TimeSpan MonitorInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A request unanswered this long, with nothing at all received meanwhile, triggers a liveness check.</summary>
    public TimeSpan UnansweredBeforeCheck { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Nothing received for this long (a listen-only session) triggers a liveness check.</summary>
    public TimeSpan IdleBeforeCheck { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The MQTT ping must be answered within this; otherwise the connection is closed as dead.</summary>
    public TimeSpan LivenessCheckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After a reconnect, services re-register a little later: during this window "no service" and "no answer" are retried.</summary>
    public TimeSpan SettleWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait for an answer inside the settle window before an idempotent request is sent again; doubles each time.</summary>
    public TimeSpan SettleFirstAnswerWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>First pause before retrying a "no service" answer inside the settle window; doubles up to 2 s.</summary>
    public TimeSpan ServiceNotFoundFirstBackOff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long closing a dead connection may take before the reconnect goes ahead anyway.</summary>
    public TimeSpan DeadConnectionTeardown { get; init; } = TimeSpan.FromSeconds(2);
}

public sealed partial class DxlClient
{
    /// <summary>An idempotent request whose answer was lost with the connection is sent again after each reconnect, at most this often.</summary>
    private const int MaxResendsAfterLoss = 3;

    private static readonly Task CompletedGate = Task.CompletedTask;

    // Completed while connected (the cached completed task: a single read on the request path); a pending task while
    // reconnecting, completed when the connection is back or the client closes.
    private volatile Task _connectionGate = CompletedGate;
    private TaskCompletionSource? _gateSource;

    private OutageInProgress? _outage;
    private DxlOutage? _lastOutage;
    private string? _lastConnectionError;
    private int _reconnectCount;
    private long _reconnectedAtTicks = long.MinValue / 2;
    private long _lastReceivedTicks = Environment.TickCount64;
    private volatile bool _livenessCheckRunning;
    private Task? _livenessMonitor;

    private sealed class OutageInProgress(DateTimeOffset since, DateTimeOffset knownDeadSince, string reason, DxlBroker? lostBroker)
    {
        /// <summary>The start of the window in which events may have been missed (for a silent connection: the last traffic).</summary>
        public DateTimeOffset Since { get; } = since;

        /// <summary>Since when the fabric is known to have been unreachable: decides when waiting operations give up early.</summary>
        public DateTimeOffset KnownDeadSince { get; } = knownDeadSince;
        public string Reason { get; } = reason;
        public DxlBroker? LostBroker { get; } = lostBroker;
        public List<string> Tried { get; } = new();
        public string? LastError { get; set; }
    }

    internal DxlResilienceTimings Timings { get; set; } = DxlResilienceTimings.Default;

    /// <summary>Since when the fabric has been unreachable (connection lost or found dead); null while connected.</summary>
    public DateTimeOffset? UnreachableSince
    {
        get { lock (_stateLock) return _outage?.Since; }
    }

    /// <summary>The brokers tried since the connection was lost (<c>ssl://host:port</c>); empty while connected.</summary>
    public IReadOnlyList<string> BrokersTriedSinceDisconnect
    {
        get { lock (_stateLock) return _outage is { } o ? o.Tried.ToArray() : Array.Empty<string>(); }
    }

    /// <summary>Why the connection was last lost, or the last failed connect attempt since; kept after the reconnect.</summary>
    public string? LastConnectionError
    {
        get { lock (_stateLock) return _lastConnectionError; }
    }

    /// <summary>How many times the client reconnected after losing its connection.</summary>
    public int ReconnectCount => Volatile.Read(ref _reconnectCount);

    /// <summary>The most recent outage that ended with a reconnect, or null.</summary>
    public DxlOutage? LastOutage
    {
        get { lock (_stateLock) return _lastOutage; }
    }

    /// <summary>
    /// Raised (on a thread-pool thread) after every reconnect, with the outage window: events published on the fabric
    /// between <see cref="DxlOutage.DisconnectedAt"/> and <see cref="DxlOutage.ReconnectedAt"/> were not received.
    /// Subscriptions are already restored when it is raised.
    /// </summary>
    public event EventHandler<DxlOutage>? Reconnected;

    /// <summary>
    /// The connection is gone (dropped, or found dead by the liveness check). Starts an outage, makes new requests
    /// wait at the gate, fails the pending ones (idempotent requests send themselves again), and starts reconnecting.
    /// Only the first caller for a connection does anything.
    /// </summary>
    /// <param name="reason">Why, for messages.</param>
    /// <param name="deadCheckStartedAt">For a connection found silent: when the unanswered check (MQTT ping) was sent; null when it dropped.</param>
    private void HandleConnectionLost(string reason, long? deadCheckStartedAt)
    {
        var connectionWasDead = deadCheckStartedAt is not null;
        var reconnect = Config.ReconnectWhenDisconnected && !_lifetime.IsCancellationRequested;
        var next = reconnect ? DxlConnectionState.Reconnecting : DxlConnectionState.Disconnected;
        DxlBroker? lost;
        lock (_stateLock)
        {
            // Check and change in one step: MQTTnet's Disconnected event and the liveness monitor may both get here.
            if (_state != DxlConnectionState.Connected) return;
            lost = _currentBroker;
            var since = connectionWasDead ? TicksToTime(Volatile.Read(ref _lastReceivedTicks)) : DateTimeOffset.UtcNow;
            var knownDead = deadCheckStartedAt is { } started ? TicksToTime(KnownSilentSinceTicks(started)) : since;
            _outage = new OutageInProgress(since, knownDead, reason, lost);
            _lastConnectionError = reason;
            // The state (and the gate) change before pending requests fail, so a request sending itself again waits.
            _state = next;
            _currentBroker = null;
            UpdateGateLocked(next);
        }
        _log(DxlLogLevel.Warning, $"DXL client {ClientId}: connection to {lost} lost: {reason}" + (reconnect ? "; reconnecting, requests wait for the connection" : ""));
        RaiseStateChanged(next, null);
        FailAllPending(new DxlConnectionLostException($"The connection to the DXL broker {lost} was lost while the request was pending ({reason})."));
        if (reconnect) _reconnectLoop = Task.Run(() => ReconnectLoopAsync(connectionWasDead ? lost : null));
    }

    private void OnConnectAttemptFailed(DxlBroker broker, DxlConnectionException error)
    {
        lock (_stateLock)
        {
            _lastConnectionError = error.Message;
            if (_outage is not { } outage) return;
            var name = broker.ToString();
            if (!outage.Tried.Contains(name)) outage.Tried.Add(name);
            outage.LastError = error.Message;
        }
    }

    /// <summary>Ends the outage in progress: counts the reconnect, opens the settle window, tells subscribers.</summary>
    private void EndOutage(DxlBroker broker)
    {
        DxlOutage? ended = null;
        lock (_stateLock)
        {
            if (_outage is { } o)
            {
                var tried = o.Tried.Contains(broker.ToString()) ? o.Tried.ToArray() : [.. o.Tried, broker.ToString()];
                ended = new DxlOutage(o.Since, DateTimeOffset.UtcNow, o.Reason, o.LostBroker, broker, tried);
                _lastOutage = ended;
                _outage = null;
            }
        }
        Volatile.Write(ref _outageFailedTimeoutMs, 0);
        Interlocked.Increment(ref _reconnectCount);
        Volatile.Write(ref _reconnectedAtTicks, Environment.TickCount64);
        Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
        if (ended is not null && Reconnected is { } handler)
            ThreadPool.QueueUserWorkItem(_ =>
            {
                try { handler(this, ended); }
                catch (Exception e) { _log(DxlLogLevel.Error, $"DXL client {ClientId}: a Reconnected handler failed: {e.Message}"); }
            });
    }

    /// <summary>Called under the state lock on every state change: the gate is open exactly while connected (or closed for good).</summary>
    private void UpdateGateLocked(DxlConnectionState state)
    {
        if (state is DxlConnectionState.Reconnecting)
        {
            if (_gateSource is null)
            {
                _gateSource = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _connectionGate = _gateSource.Task;
            }
            return;
        }
        // Connected, Disconnected, Closed: waiters wake up and judge the new state themselves.
        var source = _gateSource;
        _gateSource = null;
        _connectionGate = CompletedGate;
        source?.TrySetResult();
    }

    /// <summary>
    /// Waits while the client reconnects, bounded by the caller's deadline (Environment.TickCount64 ms). Fails at once
    /// when the client is not connected and not reconnecting.
    /// </summary>
    private async Task WaitForConnectionAsync(string what, TimeSpan timeout, long deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var gate = _connectionGate;
            var state = State;
            if (state == DxlConnectionState.Connected && _mqtt.IsConnected)
            {
                if (!(_livenessCheckRunning && HasBeenUnreachableFor(timeout))) return;
                throw Unreachable($"{what} was not sent: the connection has been silent for longer than its {Seconds(timeout)} s timeout", state);
            }
            if (state is not (DxlConnectionState.Connected or DxlConnectionState.Reconnecting))
                throw new DxlConnectionException($"Not connected to a DXL broker ({state}): {what} was not sent.");
            var remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                NoteRanOutOfTime(timeout);
                throw Unreachable($"{what} was not sent within {Seconds(timeout)} s", DxlConnectionState.Reconnecting);
            }
            if (HasBeenUnreachableFor(timeout))
                throw Unreachable($"{what} was not sent: the fabric has been unreachable for longer than its {Seconds(timeout)} s timeout", DxlConnectionState.Reconnecting);
            if (gate.IsCompleted)
            {
                // Connected by our state, but MQTTnet already saw the drop: its Disconnected handler is about to run.
                await Task.Delay((int)Math.Min(remaining, 20), cancellationToken).ConfigureAwait(false);
                continue;
            }
            try
            {
                await gate.WaitAsync(TimeSpan.FromMilliseconds(remaining), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                NoteRanOutOfTime(timeout);
                throw Unreachable($"{what} was not sent within {Seconds(timeout)} s", DxlConnectionState.Reconnecting);
            }
        }
    }

    /// <summary>
    /// True when the fabric has been unreachable (reconnecting, or a silent connection under a liveness check) for at
    /// least <paramref name="timeout"/>. Operations started then fail at once instead of each waiting out its whole
    /// timeout in turn: a bulk run with a bounded number in flight would otherwise fail one timeout after another.
    /// </summary>
    private bool HasBeenUnreachableFor(TimeSpan timeout)
    {
        DateTimeOffset since;
        lock (_stateLock)
        {
            if (_outage is { } outage) since = outage.KnownDeadSince;
            else if (_livenessCheckRunning) since = TicksToTime(KnownSilentSinceTicks(Volatile.Read(ref _livenessCheckStartedTicks)));
            else return false;
        }
        // Also when an operation with at least this timeout already ran out of time in this outage: the next wave of a
        // bounded pipeline starts just short of "unreachable for a whole timeout" and would otherwise wait it out again.
        return DateTimeOffset.UtcNow - since >= timeout ||
               (long)timeout.TotalMilliseconds <= Volatile.Read(ref _outageFailedTimeoutMs);
    }

    /// <summary>
    /// Since when a line under an unanswered check is known to be silent: the last traffic, but no earlier than the
    /// quiet spell that starts a check before the check. (An idle listener's last traffic may be long ago; that says
    /// nothing about when the line died.)
    /// </summary>
    private long KnownSilentSinceTicks(long checkStartedAt) =>
        Math.Max(Volatile.Read(ref _lastReceivedTicks), checkStartedAt - (long)Timings.UnansweredBeforeCheck.TotalMilliseconds);

    private long _livenessCheckStartedTicks;

    // The longest timeout that ran out because the fabric was unreachable, since the connection was last healthy (0: none).
    private long _outageFailedTimeoutMs;

    private void NoteRanOutOfTime(TimeSpan timeout)
    {
        var ms = (long)timeout.TotalMilliseconds;
        long seen;
        while ((seen = Volatile.Read(ref _outageFailedTimeoutMs)) < ms && Interlocked.CompareExchange(ref _outageFailedTimeoutMs, ms, seen) != seen) { }
    }

    /// <summary>True when an operation whose publish failed can wait for the reconnect and try again.</summary>
    private bool CanWaitForReconnect(long deadline) =>
        Config.ReconnectWhenDisconnected && !_lifetime.IsCancellationRequested &&
        State is DxlConnectionState.Connected or DxlConnectionState.Reconnecting &&
        deadline - Environment.TickCount64 > 0;

    /// <summary>True while requests sent now may beat the services back after a reconnect.</summary>
    private bool IsSettling(long now) => now - Volatile.Read(ref _reconnectedAtTicks) < (long)Timings.SettleWindow.TotalMilliseconds;

    /// <summary>The error of an operation that ran out of time because the fabric could not be reached.</summary>
    private DxlFabricUnreachableException Unreachable(string what, DxlConnectionState state)
    {
        lock (_stateLock)
        {
            if (_outage is { } o)
            {
                var tried = o.Tried.Count == 0 ? "none yet" : string.Join(", ", o.Tried);
                var last = o.LastError is null || o.LastError == o.Reason ? "" : $"; last error: {o.LastError}";
                return new DxlFabricUnreachableException(
                    $"{what}: the DXL fabric has been unreachable since {o.Since.UtcDateTime:HH:mm:ss} UTC ({Seconds(DateTimeOffset.UtcNow - o.Since)} s; " +
                    $"connection to {o.LostBroker?.ToString() ?? "the broker"} lost: {o.Reason}). Brokers tried since: {tried}{last}.",
                    o.Since, o.Tried.ToArray(), o.LastError ?? o.Reason);
            }
            var broker = _currentBroker?.ToString() ?? "the broker";
            var since = TicksToTime(Volatile.Read(ref _lastReceivedTicks));
            var reason = state == DxlConnectionState.Connected
                ? $"the connection to {broker} has carried nothing since {since.UtcDateTime:HH:mm:ss} UTC and its liveness check (MQTT ping) is unanswered"
                : $"the client is {state}";
            return new DxlFabricUnreachableException($"{what}: the DXL fabric is unreachable: {reason}.", since, [broker], reason);
        }
    }

    /// <summary>A request with no answer: a plain timeout, unless the connection itself went silent since it was sent.</summary>
    private DxlException NoAnswer(string topic, string messageId, TimeSpan timeout)
    {
        // The check only runs when the line has been quiet while answers were overdue.
        if (_livenessCheckRunning)
        {
            NoteRanOutOfTime(timeout);
            return Unreachable($"No response to the request on '{topic}' (message {messageId}) within {Seconds(timeout)} s", DxlConnectionState.Connected);
        }
        return new DxlTimeoutException(topic, messageId, timeout);
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset TicksToTime(long ticks) => DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Math.Max(0, Environment.TickCount64 - ticks));

    /// <summary>
    /// Notices a connection that stopped carrying traffic: a half-open TCP connection, a frozen broker, a firewall that
    /// drops packets. MQTT keep-alive stays what the config says (1800 s by default would take 45 minutes); instead,
    /// when answers are overdue or the line has been idle, one MQTT ping with a short timeout decides. Costs nothing
    /// per request: it reads the time of the last received message and, only when that is old, the pending requests.
    /// </summary>
    private async Task MonitorLivenessAsync()
    {
        while (!_lifetime.IsCancellationRequested)
        {
            var timings = Timings;
            try { await Task.Delay(timings.MonitorInterval, _lifetime.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            if (State != DxlConnectionState.Connected || !_mqtt.IsConnected) continue;

            var now = Environment.TickCount64;
            var quietMs = now - Volatile.Read(ref _lastReceivedTicks);
            string? why = null;
            if (quietMs >= (long)timings.UnansweredBeforeCheck.TotalMilliseconds && OldestPendingSentAt() is { } sentAt &&
                now - sentAt >= (long)timings.UnansweredBeforeCheck.TotalMilliseconds)
                why = $"a request has waited {Seconds(TimeSpan.FromMilliseconds(now - sentAt))} s with nothing received meanwhile";
            else if (quietMs >= (long)timings.IdleBeforeCheck.TotalMilliseconds)
                why = $"nothing received for {Seconds(TimeSpan.FromMilliseconds(quietMs))} s";
            if (why is null) continue;

            var broker = CurrentBroker;
            if (await IsAliveAsync(timings.LivenessCheckTimeout).ConfigureAwait(false))
            {
                Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
                Volatile.Write(ref _outageFailedTimeoutMs, 0);
                continue;
            }
            if (_lifetime.IsCancellationRequested || CurrentBroker != broker) continue;
            HandleConnectionLost($"{why}, and the broker did not answer a liveness check (MQTT ping) within {Seconds(timings.LivenessCheckTimeout)} s: " +
                                 "the connection is silent (broker frozen, network dropping packets?) and was closed", Volatile.Read(ref _livenessCheckStartedTicks));
        }
    }

    private long? OldestPendingSentAt()
    {
        long? oldest = null;
        // The dictionary's own enumerator takes no locks (its Values property would lock every bucket).
        foreach (var (_, pending) in _pending)
        {
            var sentAt = Volatile.Read(ref pending.SentAt);
            if (sentAt != 0 && (oldest is null || sentAt < oldest)) oldest = sentAt;
        }
        return oldest;
    }

    /// <summary>One MQTT ping. Started without a cancellable token (a write cut mid-packet would corrupt the TLS stream); only the wait is bounded.</summary>
    private async Task<bool> IsAliveAsync(TimeSpan timeout)
    {
        Volatile.Write(ref _livenessCheckStartedTicks, Environment.TickCount64);
        _livenessCheckRunning = true;
        Task ping;
        try
        {
            ping = _mqtt.PingAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or ObjectDisposedException)
        {
            _livenessCheckRunning = false;
            return !_mqtt.IsConnected; // already gone: the Disconnected handler takes over
        }
        try
        {
            await ping.WaitAsync(timeout, _lifetime.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or MqttCommunicationException or OperationCanceledException or IOException)
        {
            _ = ping.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return e is not TimeoutException && !_mqtt.IsConnected;
        }
        finally
        {
            _livenessCheckRunning = false;
        }
    }

    /// <summary>Closes what is left of a dead connection without letting a stuck socket hold up the reconnect.</summary>
    private async Task AbandonConnectionAsync()
    {
        if (!_mqtt.IsConnected) return;
        using var bounded = new CancellationTokenSource(Timings.DeadConnectionTeardown);
        try
        {
            await _mqtt.DisconnectAsync(new MqttClientDisconnectOptions(), bounded.Token).WaitAsync(Timings.DeadConnectionTeardown + Timings.DeadConnectionTeardown).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log(DxlLogLevel.Debug, $"DXL client {ClientId}: closing the dead connection: {e.Message}");
        }
    }
}
