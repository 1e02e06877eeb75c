using System.Collections.Concurrent;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;

namespace TieDxl.Tie;

/// <summary>
/// What a <see cref="TieClient"/> does so that no External report is lost to a broker restart, for as long as the
/// client lives (a session's whole life, not one pipeline's):
/// <list type="bullet">
/// <item>After a reconnect the TIE server comes back a little later than the broker, and an event published before
/// it re-subscribed reaches nobody (events have no answer to miss). The server consumes External reports on the
/// connection that serves lookups, so one answered lookup per reconnect shows it is back; reports wait for it.</item>
/// <item>The broker confirmed reading the reports, but a broker that crashes takes with it what it had not yet
/// passed on (the fabric acknowledges no event). So the reports of the last second before an outage are kept and
/// sent again once the server is back; TIE applies a repeated report like a single one.</item>
/// </list>
/// It reacts to <see cref="DxlClient.Reconnected"/> by itself, so a replay needs no next command. A client that
/// never reported makes no probe at all; the probe runs once per reconnect, whoever asks.
/// </summary>
internal sealed class TieReportReplay
{
    /// <summary>Reports read by a broker this shortly before it went down may not have reached the TIE server yet.</summary>
    internal static readonly TimeSpan ReplayWindow = TimeSpan.FromSeconds(1);

    /// <summary>The probe is bounded: a client without lookup authorisation must not stall its reports a whole timeout each reconnect.</summary>
    private static readonly TimeSpan ServiceProbeLimit = TimeSpan.FromSeconds(10);

    /// <summary>A reconnect longer ago than this needs no probe: the TIE server has long re-subscribed.</summary>
    private static readonly TimeSpan ServiceComebackWindow = TimeSpan.FromSeconds(10);

    private const int Capacity = 16_384;

    private readonly TieClient _tie;
    private readonly ConcurrentQueue<(DateTimeOffset At, DxlEvent Report, TieHashes Hashes)> _recent = new();
    private readonly object _probeLock = new();
    private (int Reconnects, Task Probe)? _probe;
    private int _serviceSeenAfterReconnect;
    private int _listening;

    public TieReportReplay(TieClient tie) => _tie = tie;

    private DxlClient Client => _tie.Client;

    /// <summary>
    /// Before a report goes out: when a reconnect happened that no probe has covered yet, and recently enough that
    /// the TIE server may not be back, waits for the (shared) probe of that reconnect.
    /// </summary>
    public Task BeforeSendAsync(TieHashes hashes, CancellationToken cancellationToken)
    {
        var reconnects = Client.ReconnectCount;
        if (reconnects == Volatile.Read(ref _serviceSeenAfterReconnect)) return Task.CompletedTask;
        if (Client.LastOutage is { } outage && DateTimeOffset.UtcNow - outage.ReconnectedAt > ServiceComebackWindow)
        {
            MarkServiceSeen(reconnects);
            return Task.CompletedTask;
        }
        return ProbeFor(reconnects, hashes).WaitAsync(cancellationToken);
    }

    /// <summary>Keeps a sent report for a while (bounded), for the replay after an outage.</summary>
    public void Remember(DxlEvent report, TieHashes hashes)
    {
        if (Interlocked.Exchange(ref _listening, 1) == 0) Client.Reconnected += OnReconnected;
        var now = DateTimeOffset.UtcNow;
        _recent.Enqueue((now, report, hashes));
        // Old ones go only while no replay is due: after an outage the last reports before it must still be there.
        var replayDue = Client.ReconnectCount != Volatile.Read(ref _serviceSeenAfterReconnect) || !Client.IsConnected;
        while (_recent.TryPeek(out var oldest) &&
               ((!replayDue && now - oldest.At > ReplayWindow + ReplayWindow) || _recent.Count > Capacity))
            _recent.TryDequeue(out _);
    }

    /// <summary>After a reconnect: when reports went out shortly before the outage, probe and replay them now.</summary>
    private void OnReconnected(object? sender, DxlOutage outage)
    {
        var from = outage.DisconnectedAt - ReplayWindow;
        (DateTimeOffset At, DxlEvent Report, TieHashes Hashes)? last = null;
        foreach (var entry in _recent)
            if (entry.At >= from && entry.At <= outage.ReconnectedAt) last = entry;
        if (last is not { } recent) return;
        // Observed by the probe itself: it never faults (see ProbeThenReplayAsync).
        _ = ProbeFor(Client.ReconnectCount, recent.Hashes);
    }

    /// <summary>The one probe of reconnect number <paramref name="reconnects"/>, started by whoever asks first.</summary>
    private Task ProbeFor(int reconnects, TieHashes hashes)
    {
        lock (_probeLock)
        {
            if (_probe is not { } current || current.Reconnects != reconnects)
            {
                current = (reconnects, Task.Run(() => ProbeThenReplayAsync(reconnects, hashes)));
                _probe = current;
            }
            return current.Probe;
        }
    }

    private async Task ProbeThenReplayAsync(int reconnects, TieHashes hashes)
    {
        var timeout = _tie.DefaultTimeout;
        try
        {
            await _tie.GetFileReputationAsync(hashes, timeout < ServiceProbeLimit ? timeout : ServiceProbeLimit, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TieException)
        {
            // Any answer, or none within the bound, ends the wait: a client may be authorised to report but not to
            // look up, and its reports go out anyway.
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            return; // the client was closed meanwhile: nobody is left to report to
        }
        MarkServiceSeen(reconnects);
        await ReplayReportsBeforeOutageAsync(timeout).ConfigureAwait(false);
    }

    private void MarkServiceSeen(int reconnects)
    {
        int seen;
        do
        {
            seen = Volatile.Read(ref _serviceSeenAfterReconnect);
            if (seen >= reconnects) return;
        } while (Interlocked.CompareExchange(ref _serviceSeenAfterReconnect, reconnects, seen) != seen);
    }

    /// <summary>Sends again the reports of the last second before the last outage, up to its end.</summary>
    private async Task ReplayReportsBeforeOutageAsync(TimeSpan timeout)
    {
        if (Client.LastOutage is not { } outage) return;
        var from = outage.DisconnectedAt - ReplayWindow;
        foreach (var (at, report, _) in _recent.ToArray())
        {
            // Up to the reconnect: a report confirmed just before the drop may be recorded just after it was noticed.
            if (at < from || at > outage.ReconnectedAt) continue;
            try
            {
                await Client.SendEventAsync(report, timeout, CancellationToken.None).ConfigureAwait(false);
            }
            catch (DxlException)
            {
                return; // the fabric went away again: the next reconnect replays
            }
            catch (ObjectDisposedException)
            {
                return; // the client was closed meanwhile: nobody is left to report to
            }
        }
    }
}
