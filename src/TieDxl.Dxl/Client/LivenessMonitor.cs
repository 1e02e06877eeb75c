using MQTTnet.Exceptions;
using static TieDxl.Dxl.Client.OutageTracker;

namespace TieDxl.Dxl.Client;

/// <summary>
/// Notices a connection that stopped carrying traffic: a half-open TCP connection, a frozen broker, a firewall that
/// drops packets. MQTT keep-alive stays what the config says (1800 s by default would take 45 minutes); instead,
/// when answers are overdue or the line has been idle, one MQTT ping with a short timeout decides. Costs nothing
/// per request: it reads the time of the last received message and, only when that is old, the pending requests.
/// </summary>
internal sealed class LivenessMonitor(DxlClientConnection connection, MqttWriter writer, PendingRequests pending)
{
    private long _lastReceivedTicks = Environment.TickCount64;
    private long _checkStartedTicks;
    private volatile bool _checkRunning;

    /// <summary>Environment.TickCount64 of the last message received (or of the last proof that the line works).</summary>
    public long LastReceivedTicks => Volatile.Read(ref _lastReceivedTicks);

    /// <summary>True while an MQTT ping decides whether a quiet line is dead.</summary>
    public bool CheckRunning => _checkRunning;

    /// <summary>When the running check was started (Environment.TickCount64).</summary>
    public long CheckStartedTicks => Volatile.Read(ref _checkStartedTicks);

    /// <summary>One ordinary write per message: the monitor reads it instead of timing each request.</summary>
    public void NoteReceived() => Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);

    /// <summary>
    /// Since when a line under an unanswered check is known to be silent: the last traffic, but no earlier than the
    /// quiet spell that starts a check before the check. (An idle listener's last traffic may be long ago; that says
    /// nothing about when the line died.)
    /// </summary>
    public long KnownSilentSinceTicks(long checkStartedAt) =>
        Math.Max(LastReceivedTicks, checkStartedAt - (long)connection.Timings.UnansweredBeforeCheck.TotalMilliseconds);

    public async Task RunAsync(CancellationToken lifetime)
    {
        while (!lifetime.IsCancellationRequested)
        {
            var timings = connection.Timings;
            try { await Task.Delay(timings.MonitorInterval, lifetime).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            if (!connection.IsConnected || WhyCheck(timings) is not { } why) continue;

            var broker = connection.CurrentBroker;
            if (await IsAliveAsync(timings.LivenessCheckTimeout, lifetime).ConfigureAwait(false))
            {
                NoteReceived();
                connection.Outages.ForgetRanOutOfTime();
                continue;
            }
            if (lifetime.IsCancellationRequested || connection.CurrentBroker != broker) continue;
            connection.HandleConnectionLost($"{why}, and the broker did not answer a liveness check (MQTT ping) within {Seconds(timings.LivenessCheckTimeout)} s: " +
                                            "the connection is silent (broker frozen, network dropping packets?) and was closed", CheckStartedTicks);
        }
    }

    /// <summary>Why the line deserves a check now, or null: an answer overdue with nothing received, or a long idle spell.</summary>
    private string? WhyCheck(DxlResilienceTimings timings)
    {
        var now = Environment.TickCount64;
        var quietMs = now - LastReceivedTicks;
        var unanswered = (long)timings.UnansweredBeforeCheck.TotalMilliseconds;
        if (quietMs >= unanswered && pending.OldestSentAt() is { } sentAt && now - sentAt >= unanswered)
            return $"a request has waited {Seconds(TimeSpan.FromMilliseconds(now - sentAt))} s with nothing received meanwhile";
        if (quietMs >= (long)timings.IdleBeforeCheck.TotalMilliseconds)
            return $"nothing received for {Seconds(TimeSpan.FromMilliseconds(quietMs))} s";
        return null;
    }

    /// <summary>One MQTT ping; only the wait is bounded.</summary>
    private async Task<bool> IsAliveAsync(TimeSpan timeout, CancellationToken lifetime)
    {
        Volatile.Write(ref _checkStartedTicks, Environment.TickCount64);
        _checkRunning = true;
        Task ping;
        try
        {
            ping = writer.StartPing();
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or ObjectDisposedException)
        {
            _checkRunning = false;
            return !writer.IsConnected; // already gone: the Disconnected handler takes over
        }
        try
        {
            await ping.WaitAsync(timeout, lifetime).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or MqttCommunicationException or OperationCanceledException or IOException)
        {
            MqttWriter.ObserveFailure(ping);
            return e is not TimeoutException && !writer.IsConnected;
        }
        finally
        {
            _checkRunning = false;
        }
    }
}
