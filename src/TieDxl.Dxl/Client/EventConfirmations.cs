using static TieDxl.Dxl.Client.OutageTracker;

namespace TieDxl.Dxl.Client;

/// <summary>
/// Confirms that the broker has read what was written: it answers an MQTT ping only after it has handled everything
/// sent before it, so one answered ping confirms every event written before it. Callers share pings: one in flight
/// at a time, the next one for everything written meanwhile.
/// </summary>
internal sealed class EventConfirmations(DxlClientConnection connection, MqttWriter writer, LivenessMonitor liveness, DxlLogSink log)
{
    private readonly object _lock = new();
    private TaskCompletionSource<bool>? _open;
    private bool _running;

    /// <summary>True once the broker answered a ping written after everything written so far; false when the connection failed first or the answer took longer than the liveness timeout.</summary>
    public Task<bool> ConfirmWrittenAsync()
    {
        lock (_lock)
        {
            _open ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _open.Task;
            if (!_running)
            {
                _running = true;
                _ = Task.Run(RunAsync);
            }
            return task;
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            TaskCompletionSource<bool> batch;
            lock (_lock)
            {
                if (_open is null)
                {
                    _running = false;
                    return;
                }
                batch = _open;
                _open = null;
            }
            batch.TrySetResult(await PingAsync().ConfigureAwait(false));
        }
    }

    private async Task<bool> PingAsync()
    {
        var broker = connection.CurrentBroker;
        var startedAt = Environment.TickCount64;
        var timeout = connection.Timings.LivenessCheckTimeout;
        Task? ping = null;
        try
        {
            ping = writer.StartPing();
            await ping.WaitAsync(timeout).ConfigureAwait(false);
            liveness.NoteReceived();
            return true;
        }
        catch (TimeoutException) when (liveness.LastReceivedTicks <= startedAt && broker is not null && connection.CurrentBroker == broker)
        {
            // Nothing at all came back while waiting: the same verdict as a failed liveness check.
            connection.HandleConnectionLost($"the broker did not answer an MQTT ping within {Seconds(timeout)} s after events were written, " +
                                            "with nothing received meanwhile: the connection is silent (broker frozen, network dropping packets?) and was closed",
                startedAt);
            log(DxlLogLevel.Debug, $"DXL client {connection.ClientId}: events not confirmed by the broker: the connection is silent");
        }
        catch (Exception e)
        {
            log(DxlLogLevel.Debug, $"DXL client {connection.ClientId}: events not confirmed by the broker: {e.Message}");
        }
        if (ping is not null) MqttWriter.ObserveFailure(ping);
        return false;
    }
}
