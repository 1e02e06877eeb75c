using MQTTnet;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using static TieDxl.Dxl.Client.OutageTracker;

namespace TieDxl.Dxl.Client;

public enum DxlConnectionState { Disconnected, Connecting, Connected, Reconnecting, Closed }

/// <summary>
/// A client's connection to the fabric: its state, the gate that holds messages while it reconnects, the reconnect
/// and failover loop, the liveness monitor, the outage bookkeeping and the writer. It tells the delivery policy
/// whether it can send (<see cref="IDxlDeliveryLink"/>); what to send again is the policy's business.
/// </summary>
internal sealed class DxlClientConnection : IDxlDeliveryLink
{
    private static readonly Task OpenGate = Task.CompletedTask;

    private readonly DxlClientConfig _config;
    private readonly IMqttClient _mqtt;
    private readonly DxlConnector _connector;
    private readonly DxlLogSink _log;
    private readonly Func<CancellationToken, Task> _restoreAsync;
    private readonly Action<Exception> _failPending;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly object _stateLock = new();
    private readonly Task _livenessLoop;
    private DxlConnectionState _state = DxlConnectionState.Disconnected;
    private DxlBroker? _currentBroker;
    private Task? _reconnectLoop;

    // Completed while connected (the cached completed task: a single read on the request path); a pending task while
    // reconnecting, completed when the connection is back or the client closes.
    private volatile Task _gate = OpenGate;
    private TaskCompletionSource? _gateSource;

    /// <summary>
    /// <paramref name="restoreAsync"/> runs after every (re)connect (subscribe everything: sessions are clean; register
    /// services); <paramref name="failPending"/> fails the requests whose answers died with the connection;
    /// <paramref name="onMessage"/> gets every message received.
    /// </summary>
    public DxlClientConnection(DxlClientConfig config, string clientId, PendingRequests pending, DxlLogSink log,
        Func<CancellationToken, Task> restoreAsync, Action<Exception> failPending, Func<MqttApplicationMessageReceivedEventArgs, Task> onMessage)
    {
        _config = config;
        ClientId = clientId;
        _log = log;
        _restoreAsync = restoreAsync;
        _failPending = failPending;
        _mqtt = new MqttClientFactory().CreateMqttClient();
        _mqtt.ApplicationMessageReceivedAsync += e =>
        {
            Liveness!.NoteReceived();
            return onMessage(e);
        };
        _mqtt.DisconnectedAsync += e =>
        {
            HandleConnectionLost(e.Exception?.Message ?? e.ReasonString ?? e.Reason.ToString(), deadCheckStartedAt: null);
            return Task.CompletedTask;
        };
        Writer = new MqttWriter(_mqtt, clientId, log);
        _connector = new DxlConnector(config, _mqtt, log) { AttemptFailed = (broker, error) => Outages.NoteAttemptFailed(broker, error.Message) };
        Liveness = new LivenessMonitor(this, Writer, pending);
        Confirmations = new EventConfirmations(this, Writer, Liveness, log);
        _livenessLoop = Task.Run(() => Liveness.RunAsync(_lifetime.Token));
    }

    public string ClientId { get; }
    public MqttWriter Writer { get; }
    public OutageTracker Outages { get; } = new();
    public LivenessMonitor Liveness { get; }
    public EventConfirmations Confirmations { get; }
    public DxlResilienceTimings Timings { get; set; } = DxlResilienceTimings.Default;

    /// <summary>Cancelled when the client closes: background work stops.</summary>
    public CancellationToken Lifetime => _lifetime.Token;

    public DxlConnectionState State
    {
        get { lock (_stateLock) return _state; }
    }

    public bool IsConnected => State == DxlConnectionState.Connected && _mqtt.IsConnected;

    public DxlBroker? CurrentBroker
    {
        get { lock (_stateLock) return _state == DxlConnectionState.Connected ? _currentBroker : null; }
    }

    /// <summary>Raised on every state change (from a thread-pool thread).</summary>
    public event EventHandler<DxlConnectionState>? StateChanged;

    /// <summary>Raised (on a thread-pool thread) after every reconnect, subscriptions already restored.</summary>
    public event EventHandler<DxlOutage>? Reconnected;

    /// <summary>Probes and orders the brokers, connects, restores subscriptions and services.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(State == DxlConnectionState.Closed, this);
        if (IsConnected) return;
        SetState(DxlConnectionState.Connecting);
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            var broker = await _connector.ConnectRunAsync(_config.ConnectRetries, linked.Token).ConfigureAwait(false);
            await _restoreAsync(linked.Token).ConfigureAwait(false);
            Liveness.NoteReceived();
            Outages.Clear(); // connected again by the application after giving up
            SetState(DxlConnectionState.Connected, broker);
        }
        catch
        {
            SetState(DxlConnectionState.Disconnected);
            await Writer.DisconnectQuietlyAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The first step of a goodbye: no reconnect any more, waiters wake up and see Closed.</summary>
    public void MarkClosed() => SetState(DxlConnectionState.Closed);

    /// <summary>The last step of a goodbye: background work stops, the MQTT connection closes.</summary>
    public async Task StopAsync()
    {
        _lifetime.Cancel();
        Outages.Clear();
        await Writer.DisconnectQuietlyAsync().ConfigureAwait(false);
        foreach (var background in new[] { _reconnectLoop, _livenessLoop })
        {
            if (background is null) continue;
            try { await background.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false); }
            catch (TimeoutException) { _log(DxlLogLevel.Debug, $"DXL client {ClientId}: a background loop did not stop within 5 s"); }
        }
    }

    public void Dispose()
    {
        _mqtt.Dispose();
        _lifetime.Dispose();
    }

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

    /// <summary>Called under the state lock on every state change: the gate is open exactly while connected (or closed for good).</summary>
    private void UpdateGateLocked(DxlConnectionState state)
    {
        if (state is DxlConnectionState.Reconnecting)
        {
            if (_gateSource is null)
            {
                _gateSource = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _gate = _gateSource.Task;
            }
            return;
        }
        // Connected, Disconnected, Closed: waiters wake up and judge the new state themselves.
        var source = _gateSource;
        _gateSource = null;
        _gate = OpenGate;
        source?.TrySetResult();
    }

    /// <summary>
    /// The connection is gone (dropped, or found dead by a liveness check). Starts an outage, makes new messages wait
    /// at the gate, fails the pending requests (the policy sends idempotent ones again), and starts reconnecting.
    /// Only the first caller for a connection does anything: MQTTnet's Disconnected event and the liveness monitor
    /// may both get here.
    /// </summary>
    /// <remarks><paramref name="deadCheckStartedAt"/>: for a connection found silent, when the unanswered check was sent; null when it dropped.</remarks>
    public void HandleConnectionLost(string reason, long? deadCheckStartedAt)
    {
        var reconnect = _config.ReconnectWhenDisconnected && !_lifetime.IsCancellationRequested;
        var next = reconnect ? DxlConnectionState.Reconnecting : DxlConnectionState.Disconnected;
        DxlBroker? lost;
        lock (_stateLock)
        {
            if (_state != DxlConnectionState.Connected) return;
            lost = _currentBroker;
            var since = deadCheckStartedAt is null ? DateTimeOffset.UtcNow : TicksToTime(Liveness.LastReceivedTicks);
            var knownDead = deadCheckStartedAt is { } started ? TicksToTime(Liveness.KnownSilentSinceTicks(started)) : since;
            Outages.Begin(since, knownDead, reason, lost);
            // The state (and the gate) change before pending requests fail, so a request sending itself again waits.
            _state = next;
            _currentBroker = null;
            UpdateGateLocked(next);
        }
        _log(DxlLogLevel.Warning, $"DXL client {ClientId}: connection to {lost} lost: {reason}" + (reconnect ? "; reconnecting, requests wait for the connection" : ""));
        RaiseStateChanged(next, null);
        _failPending(new DxlConnectionLostException($"The connection to the DXL broker {lost} was lost while the request was pending ({reason})."));
        if (reconnect) _reconnectLoop = Task.Run(() => ReconnectLoopAsync(deadCheckStartedAt is null ? null : lost));
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
                await _restoreAsync(_lifetime.Token).ConfigureAwait(false);
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
                Outages.NoteAttemptFailed(null, ex.Message);
                await Writer.DisconnectQuietlyAsync().ConfigureAwait(false);
                try { await Task.Delay(_config.ReconnectDelay, _lifetime.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Ends the outage in progress: counts the reconnect, opens the settle window, tells subscribers.</summary>
    private void EndOutage(DxlBroker broker)
    {
        var ended = Outages.End(broker);
        Liveness.NoteReceived();
        if (ended is null || Reconnected is not { } handler) return;
        ThreadPool.QueueUserWorkItem(_ =>
        {
            try { handler(this, ended); }
            catch (Exception e) { _log(DxlLogLevel.Error, $"DXL client {ClientId}: a Reconnected handler failed: {e.Message}"); }
        });
    }

    /// <summary>Closes what is left of a dead connection without letting a stuck socket hold up the reconnect.</summary>
    private async Task AbandonConnectionAsync()
    {
        if (!_mqtt.IsConnected) return;
        var teardown = Timings.DeadConnectionTeardown;
        using var bounded = new CancellationTokenSource(teardown);
        try
        {
            await Writer.DisconnectQuietlyAsync(bounded.Token).WaitAsync(teardown + teardown).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log(DxlLogLevel.Debug, $"DXL client {ClientId}: closing the dead connection took longer than {Seconds(teardown + teardown)} s; reconnecting anyway");
        }
    }

    // ------------------------------------------------------------------------------------------ IDxlDeliveryLink

    public long NowMs => Environment.TickCount64;

    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;

    public int ReconnectCount => Outages.ReconnectCount;

    public DxlOutage? LastOutage => Outages.LastOutage;

    public bool IsReady(TimeSpan timeout) => _gate.IsCompleted && !(Liveness.CheckRunning && HasBeenUnreachableFor(timeout));

    public async Task WaitUntilReadyAsync(string what, TimeSpan timeout, long deadlineMs, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var gate = _gate;
            var state = State;
            if (state == DxlConnectionState.Connected && _mqtt.IsConnected)
            {
                if (!(Liveness.CheckRunning && HasBeenUnreachableFor(timeout))) return;
                throw UnreachableError($"{what} was not sent: the connection has been silent for longer than its {Seconds(timeout)} s timeout", state);
            }
            if (state is not (DxlConnectionState.Connected or DxlConnectionState.Reconnecting))
                throw new DxlConnectionException($"Not connected to a DXL broker ({state}): {what} was not sent.");
            var remaining = deadlineMs - Environment.TickCount64;
            if (remaining <= 0) throw RanOutOfTime(what, timeout);
            if (HasBeenUnreachableFor(timeout))
                throw UnreachableError($"{what} was not sent: the fabric has been unreachable for longer than its {Seconds(timeout)} s timeout", DxlConnectionState.Reconnecting);
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
                throw RanOutOfTime(what, timeout);
            }
        }
    }

    private DxlFabricUnreachableException RanOutOfTime(string what, TimeSpan timeout)
    {
        Outages.NoteRanOutOfTime(timeout);
        return UnreachableError($"{what} was not sent within {Seconds(timeout)} s", DxlConnectionState.Reconnecting);
    }

    /// <summary>
    /// True when the fabric has been unreachable (reconnecting, or a silent connection under a liveness check) for at
    /// least <paramref name="timeout"/>. Operations started then fail at once instead of each waiting out its whole
    /// timeout in turn: a bulk run with a bounded number in flight would otherwise fail one timeout after another.
    /// </summary>
    private bool HasBeenUnreachableFor(TimeSpan timeout)
    {
        DateTimeOffset since;
        if (Outages.KnownDeadSince is { } dead) since = dead;
        else if (Liveness.CheckRunning) since = TicksToTime(Liveness.KnownSilentSinceTicks(Liveness.CheckStartedTicks));
        else return false;
        return DateTimeOffset.UtcNow - since >= timeout || Outages.SomeoneRanOutOfTimeWith(timeout);
    }

    public bool CanWaitForReconnect(long deadlineMs) =>
        _config.ReconnectWhenDisconnected && !_lifetime.IsCancellationRequested &&
        State is DxlConnectionState.Connected or DxlConnectionState.Reconnecting &&
        deadlineMs - Environment.TickCount64 > 0;

    public bool IsSettling(long nowMs) => nowMs - Outages.ReconnectedAtTicks < (long)Timings.SettleWindow.TotalMilliseconds;

    public Task PublishAsync(DxlMessage message, CancellationToken cancellationToken) => Writer.PublishAsync(message, cancellationToken);

    public Task<bool> ConfirmWrittenAsync() => Confirmations.ConfirmWrittenAsync();

    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) => Task.Delay(delay, cancellationToken);

    public Task<DxlResponse> WaitForAnswerAsync(Task<DxlResponse> answer, TimeSpan wait, CancellationToken cancellationToken) =>
        answer.WaitAsync(wait, cancellationToken);

    public DxlException NoAnswer(string topic, string messageId, TimeSpan timeout)
    {
        // The check only runs when the line has been quiet while answers were overdue.
        if (!Liveness.CheckRunning) return new DxlTimeoutException(topic, messageId, timeout);
        Outages.NoteRanOutOfTime(timeout);
        return UnreachableError($"No response to the request on '{topic}' (message {messageId}) within {Seconds(timeout)} s", DxlConnectionState.Connected);
    }

    public DxlFabricUnreachableException Unreachable(string what) => UnreachableError(what, State);

    private DxlFabricUnreachableException UnreachableError(string what, DxlConnectionState state)
    {
        if (Outages.UnreachableError(what) is { } duringOutage) return duringOutage;
        DxlBroker? current;
        lock (_stateLock) current = _currentBroker;
        var broker = current?.ToString() ?? "the broker";
        var since = TicksToTime(Liveness.LastReceivedTicks);
        var reason = state == DxlConnectionState.Connected
            ? $"the connection to {broker} has carried nothing since {since.UtcDateTime:HH:mm:ss} UTC and its liveness check (MQTT ping) is unanswered"
            : $"the client is {state}";
        return new DxlFabricUnreachableException($"{what}: the DXL fabric is unreachable: {reason}.", since, [broker], reason);
    }
}
