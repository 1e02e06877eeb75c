using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl;

/// <summary>
/// One connection to a DXL fabric, opened by Connect-DxlFabric. Lives in the runspace that opened it (see
/// <see cref="Session.SessionRegistry"/>); can be handed to other runspaces with <c>-Session $using:s</c>.
/// The DXL client inside is not part of the public surface.
/// </summary>
public sealed class DxlSession
{
    private readonly object _gate = new();
    private readonly List<DxlLogSink> _logListeners = new();
    private readonly string[] _brokers;
    private DateTimeOffset? _connectedSince;
    private bool _closed;

    internal DxlSession(int id, string name, DxlClientConfig config, Func<DxlLogSink, DxlClient> clientFactory)
    {
        Id = id;
        Name = name;
        ConfigPath = config.ConfigFilePath;
        _brokers = config.EffectiveBrokers.Select(b => b.ToString()).ToArray();
        CreatedAt = DateTimeOffset.Now;
        Client = clientFactory(Log);
        Tie = new TieClient(Client);
        Client.StateChanged += OnStateChanged;
    }

    /// <summary>Number of the session in its runspace (1, 2, ...).</summary>
    public int Id { get; }

    /// <summary>Name given with -Name, or "DxlSession&lt;Id&gt;".</summary>
    public string Name { get; }

    /// <summary>The dxlclient.config the session was opened from; null when opened with -Broker.</summary>
    public string? ConfigPath { get; }

    /// <summary>When Connect-DxlFabric created the session.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The brokers the session may connect to, as <c>ssl://host:port</c> or <c>wss://host:port</c>.</summary>
    public IReadOnlyList<string> Brokers => _brokers;

    /// <summary>The broker of the live connection (<c>ssl://host:port</c>), or null when not connected.</summary>
    public string? Broker
    {
        get
        {
            if (_closed) return null;
            try { return Client.CurrentBroker?.ToString(); }
            catch (ObjectDisposedException) { return null; }
        }
    }

    /// <summary>The DXL client id (also the reply-topic suffix).</summary>
    public string ClientId
    {
        get
        {
            try { return Client.ClientId; }
            catch (ObjectDisposedException) { return ""; }
        }
    }

    /// <summary>Connection state. Closed once Disconnect-DxlFabric ran.</summary>
    public DxlConnectionState State
    {
        get
        {
            if (_closed) return DxlConnectionState.Closed;
            try { return Client.State; }
            catch (ObjectDisposedException) { return DxlConnectionState.Disconnected; }
        }
    }

    /// <summary>True while the connection is up.</summary>
    public bool IsConnected => State == DxlConnectionState.Connected;

    /// <summary>Start of the current connection (set again after a reconnect); null when not connected.</summary>
    public DateTimeOffset? ConnectedSince
    {
        get { lock (_gate) return IsConnected ? _connectedSince : null; }
    }

    /// <summary>While reconnecting: since when the fabric has been unreachable; null while connected.</summary>
    public DateTimeOffset? UnreachableSince => _closed ? null : Client.UnreachableSince;

    /// <summary>Why the connection was last lost, or the last failed connect attempt since.</summary>
    public string? LastError => Client.LastConnectionError;

    /// <summary>How many times the session reconnected by itself after losing its connection.</summary>
    public int ReconnectCount => Client.ReconnectCount;

    /// <summary>The last outage that ended with a reconnect (events published in that window were not received), or null.</summary>
    public DxlOutage? LastOutage => Client.LastOutage;

    internal DxlClient Client { get; }

    /// <summary>
    /// The session's one TIE client: every TIE command of the session uses it, so what must outlive a pipeline (the
    /// recent External reports replayed after an outage, the one TIE-is-back probe per reconnect) lives here.
    /// </summary>
    internal TieClient Tie { get; }

    internal bool IsClosed => _closed;

    /// <summary>The session's reputation cache and request rate: state, bounds, hits, misses, evictions, requests.</summary>
    public DxlSessionCache Cache => new(Tie.CacheStatistics);

    /// <summary>Sets the session's cache bounds (a zero <paramref name="cacheMaxAge"/> turns it off) and its request rate (null: none).</summary>
    internal void ConfigureLookups(TimeSpan cacheMaxAge, int cacheMaxEntries, double? maxRequestsPerSecond)
    {
        Tie.ConfigureCache(cacheMaxAge, cacheMaxEntries);
        var previous = Tie.DefaultRequestRate;
        Tie.DefaultRequestRate = maxRequestsPerSecond is { } rate ? new TieRequestRate(rate) : null;
        previous?.Dispose();
    }

    /// <summary>The registry of the runspace that opened the session (set when it is added).</summary>
    internal Session.RunspaceSessions? Owner { get; set; }

    public override string ToString() => $"{Name} ({State}{(Broker is { } b ? ", " + b : "")})";

    internal void MarkConnected()
    {
        lock (_gate) _connectedSince ??= DateTimeOffset.Now;
    }

    internal void MarkClosed()
    {
        lock (_gate)
        {
            _closed = true;
            _connectedSince = null;
        }
        // The rate's bucket refills on a timer: a closed session has no use for it.
        Tie.DefaultRequestRate?.Dispose();
    }

    private void OnStateChanged(object? sender, DxlConnectionState state)
    {
        lock (_gate)
        {
            if (state == DxlConnectionState.Connected) _connectedSince = DateTimeOffset.Now;
            else _connectedSince = null;
        }
    }

    /// <summary>
    /// Routes the client's diagnostics (any thread) to the cmdlets currently using this session. The
    /// listener must only queue: see <see cref="Commands.TieDxlCmdletBase"/>.
    /// </summary>
    internal IDisposable AttachLog(DxlLogSink listener)
    {
        lock (_logListeners) _logListeners.Add(listener);
        return new Detach(this, listener);
    }

    private void Log(DxlLogLevel level, string message)
    {
        DxlLogSink[] listeners;
        lock (_logListeners)
        {
            if (_logListeners.Count == 0) return;
            listeners = _logListeners.ToArray();
        }
        foreach (var l in listeners)
        {
            try { l(level, message); }
            catch (Exception) { /* a listener must never break the client */ }
        }
    }

    private sealed class Detach : IDisposable
    {
        private DxlSession? _session;
        private readonly DxlLogSink _listener;

        public Detach(DxlSession session, DxlLogSink listener)
        {
            _session = session;
            _listener = listener;
        }

        public void Dispose()
        {
            var s = Interlocked.Exchange(ref _session, null);
            if (s is null) return;
            lock (s._logListeners) s._logListeners.Remove(_listener);
        }
    }
}
