using System.Globalization;
using TieDxl.Dxl.Config;

namespace TieDxl.Dxl.Client;

/// <summary>
/// The bookkeeping of a connection's outages: the one in progress (since when, why, which brokers were tried), the
/// last one that ended, the reconnect count, and what operations that ran out of time during it learned. Builds the
/// error that says why the fabric could not be reached.
/// </summary>
internal sealed class OutageTracker
{
    private readonly object _lock = new();
    private OutageInProgress? _outage;
    private DxlOutage? _lastOutage;
    private string? _lastError;
    private int _reconnectCount;
    private long _reconnectedAtTicks = long.MinValue / 2;

    // The longest timeout that ran out because the fabric was unreachable, since the connection was last healthy (0: none).
    private long _failedTimeoutMs;

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

    /// <summary>Since when the fabric has been unreachable; null while no outage is in progress.</summary>
    public DateTimeOffset? UnreachableSince
    {
        get { lock (_lock) return _outage?.Since; }
    }

    /// <summary>Since when the fabric is known to be unreachable; null while no outage is in progress.</summary>
    public DateTimeOffset? KnownDeadSince
    {
        get { lock (_lock) return _outage?.KnownDeadSince; }
    }

    /// <summary>Why the connection was last lost, or the last failed connect attempt since; kept after the reconnect.</summary>
    public string? LastError
    {
        get { lock (_lock) return _lastError; }
    }

    public int ReconnectCount => Volatile.Read(ref _reconnectCount);

    /// <summary>Environment.TickCount64 of the last reconnect (far in the past before the first).</summary>
    public long ReconnectedAtTicks => Volatile.Read(ref _reconnectedAtTicks);

    public DxlOutage? LastOutage
    {
        get { lock (_lock) return _lastOutage; }
    }

    public void Begin(DateTimeOffset since, DateTimeOffset knownDeadSince, string reason, DxlBroker? lostBroker)
    {
        lock (_lock)
        {
            _outage = new OutageInProgress(since, knownDeadSince, reason, lostBroker);
            _lastError = reason;
        }
    }

    /// <summary>A connect attempt to <paramref name="broker"/> failed (during an outage it joins the brokers tried).</summary>
    public void NoteAttemptFailed(DxlBroker? broker, string error)
    {
        lock (_lock)
        {
            _lastError = error;
            if (_outage is not { } outage) return;
            if (broker is not null && !outage.Tried.Contains(broker.ToString())) outage.Tried.Add(broker.ToString());
            outage.LastError = error;
        }
    }

    /// <summary>Ends the outage in progress with a reconnect to <paramref name="broker"/>; returns it (null when none was in progress).</summary>
    public DxlOutage? End(DxlBroker broker)
    {
        DxlOutage? ended = null;
        lock (_lock)
        {
            if (_outage is { } o)
            {
                var name = broker.ToString();
                var tried = o.Tried.Contains(name) ? o.Tried.ToArray() : [.. o.Tried, name];
                ended = new DxlOutage(o.Since, DateTimeOffset.UtcNow, o.Reason, o.LostBroker, broker, tried);
                _lastOutage = ended;
                _outage = null;
            }
        }
        ForgetRanOutOfTime();
        Interlocked.Increment(ref _reconnectCount);
        Volatile.Write(ref _reconnectedAtTicks, Environment.TickCount64);
        return ended;
    }

    /// <summary>No outage any more without a reconnect of our own: the application connected again, or the client closed.</summary>
    public void Clear()
    {
        lock (_lock) _outage = null;
    }

    /// <summary>An operation with this timeout ran out of time because the fabric was unreachable.</summary>
    public void NoteRanOutOfTime(TimeSpan timeout)
    {
        var ms = (long)timeout.TotalMilliseconds;
        long seen;
        while ((seen = Volatile.Read(ref _failedTimeoutMs)) < ms && Interlocked.CompareExchange(ref _failedTimeoutMs, ms, seen) != seen) { }
    }

    /// <summary>The connection proved healthy again.</summary>
    public void ForgetRanOutOfTime() => Volatile.Write(ref _failedTimeoutMs, 0);

    /// <summary>
    /// True when an operation with at least this timeout already ran out of time in this outage: the next wave of a
    /// bounded pipeline starts just short of "unreachable for a whole timeout" and would otherwise wait it out again.
    /// </summary>
    public bool SomeoneRanOutOfTimeWith(TimeSpan timeout) => (long)timeout.TotalMilliseconds <= Volatile.Read(ref _failedTimeoutMs);

    /// <summary>The error of an operation that could not reach the fabric during the outage in progress; null when there is none.</summary>
    public DxlFabricUnreachableException? UnreachableError(string what)
    {
        lock (_lock)
        {
            if (_outage is not { } o) return null;
            var tried = o.Tried.Count == 0 ? "none yet" : string.Join(", ", o.Tried);
            var last = o.LastError is null || o.LastError == o.Reason ? "" : $"; last error: {o.LastError}";
            return new DxlFabricUnreachableException(
                $"{what}: the DXL fabric has been unreachable since {o.Since.UtcDateTime:HH:mm:ss} UTC ({Seconds(DateTimeOffset.UtcNow - o.Since)} s; " +
                $"connection to {o.LostBroker?.ToString() ?? "the broker"} lost: {o.Reason}). Brokers tried since: {tried}{last}.",
                o.Since, o.Tried.ToArray(), o.LastError ?? o.Reason);
        }
    }

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>The wall-clock time of an Environment.TickCount64 reading.</summary>
    public static DateTimeOffset TicksToTime(long ticks) =>
        DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Math.Max(0, Environment.TickCount64 - ticks));
}
