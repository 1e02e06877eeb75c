using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using TieDxl.Dxl.Client;
using TieDxl.Commands;
using TieDxl.Dxl.Config;

namespace TieDxl.Session;

/// <summary>
/// The open sessions of one runspace, its default session and its test fabric, and the one owner of their lifecycle:
/// every close (by Disconnect-DxlFabric, Stop-DxlTestFabric, a failed connect, the runspace closing, Remove-Module,
/// process exit) goes through <see cref="CloseAsync"/>, and the test fabric goes down after its sessions said goodbye.
/// Thread-safe: a session may be used from other runspaces (-Session $using:s), and the runspace's close event
/// arrives on another thread.
/// </summary>
internal sealed class RunspaceSessions
{
    // Taking sessions out and registering their closings is one step under this lock, so process exit (which takes it
    // too, through CloseAll) never sees one without the other.
    private readonly object _gate = new();
    private readonly List<DxlSession> _sessions = new();
    private DxlSession? _default;
    private DxlTestFabricInfo? _testFabric;
    private int _lastId;

    public DxlSession? Default
    {
        get { lock (_gate) return _default; }
    }

    /// <summary>The test fabric started in this runspace, if any.</summary>
    public DxlTestFabricInfo? TestFabric
    {
        get { lock (_gate) return _testFabric; }
    }

    public IReadOnlyList<DxlSession> Snapshot()
    {
        lock (_gate) return _sessions.ToArray();
    }

    public DxlSession? FindByName(string name)
    {
        lock (_gate) return _sessions.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A new, not yet connected session of this runspace (named DxlSession&lt;id&gt; unless named).</summary>
    public DxlSession Create(string? name, DxlClientConfig config)
    {
        int id;
        lock (_gate) id = ++_lastId;
        return new DxlSession(id, name ?? $"DxlSession{id}", config, log => new DxlClient(config, log)) { Owner = this };
    }

    /// <summary>A connected session joins the runspace and becomes its default.</summary>
    public void Register(DxlSession session)
    {
        session.MarkConnected();
        lock (_gate)
        {
            _sessions.Add(session);
            _default = session;
        }
    }

    /// <summary>Records the runspace's test fabric (Start-DxlTestFabric checked that none runs; a runspace runs one pipeline at a time).</summary>
    public void SetTestFabric(DxlTestFabricInfo fabric)
    {
        lock (_gate) _testFabric = fabric;
    }

    /// <summary>
    /// Closes one session of this runspace: out of it, marked closed, goodbye (bounded by
    /// <see cref="SessionRegistry.CloseTimeout"/>), disposed. The task gives the goodbye's failure, or null when it
    /// went well; it never faults.
    /// </summary>
    public Task<Exception?> CloseAsync(DxlSession session)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_default, session)) _default = null;
            _sessions.Remove(session);
            return CloseLocked(session);
        }
    }

    /// <summary>Stops the runspace's test fabric: its session first, then the broker and simulator; its temporary folder goes.</summary>
    public Task<Exception?> StopTestFabricAsync()
    {
        lock (_gate)
        {
            var fabric = _testFabric;
            _testFabric = null;
            if (fabric is null) return Task.FromResult<Exception?>(null);
            if (ReferenceEquals(_default, fabric.Session)) _default = null;
            _sessions.Remove(fabric.Session);
            return SessionRegistry.Track(StopFabricAfterAsync([CloseLocked(fabric.Session)], fabric));
        }
    }

    /// <summary>
    /// Closes every session of a runspace that is going away, then its test fabric, so that every session's goodbye
    /// reaches the broker before it stops (best effort; the caller may wait).
    /// </summary>
    public List<Task> CloseAll()
    {
        var closing = new List<Task>();
        lock (_gate)
        {
            // The fabric's own session is one of the runspace's sessions.
            var sessions = _sessions.Select(CloseLocked).ToArray();
            _sessions.Clear();
            _default = null;
            closing.AddRange(sessions);
            if (_testFabric is { } fabric)
            {
                _testFabric = null;
                closing.Add(SessionRegistry.Track(StopFabricAfterAsync(sessions, fabric)));
            }
        }
        return closing;
    }

    private static Task<Exception?> CloseLocked(DxlSession session)
    {
        session.MarkClosed();
        return SessionRegistry.Track(Task.Run(() => CloseClientAsync(session)));
    }

    private static async Task<Exception?> CloseClientAsync(DxlSession session)
    {
        Exception? failure = null;
        try
        {
            using var bound = new CancellationTokenSource(SessionRegistry.CloseTimeout);
            await session.Client.DisconnectAsync(bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        try { await session.Client.DisposeAsync().ConfigureAwait(false); }
        catch (Exception ex) { failure ??= ex; }
        return failure;
    }

    /// <summary>Stops the fabric once the sessions' goodbyes are done (they never fault); the first failure, if any.</summary>
    private static async Task<Exception?> StopFabricAfterAsync(Task<Exception?>[] sessionsClosed, DxlTestFabricInfo fabric)
    {
        var failure = (await Task.WhenAll(sessionsClosed).ConfigureAwait(false)).FirstOrDefault(f => f is not null);
        try { await fabric.Fabric.DisposeAsync().ConfigureAwait(false); }
        catch (Exception ex) { failure ??= ex; }
        return failure;
    }
}

/// <summary>
/// Finds the <see cref="RunspaceSessions"/> of a runspace, keyed on <see cref="Runspace.DefaultRunspace"/> (the
/// runspace of the calling pipeline thread). A binary module gets no per-runspace object of its own from PowerShell,
/// so a ConditionalWeakTable stands in: it does not keep a dead runspace alive, and parallel runspaces
/// (ForEach-Object -Parallel, thread jobs) each get their own, empty state. What stays static is only what spans
/// runspaces: the lookup itself and, for process exit, the closings under way.
/// </summary>
internal static class SessionRegistry
{
    /// <summary>How long a goodbye may take: in-flight publishes flushed, services unregistered, MQTT DISCONNECT.</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long process exit waits for the goodbyes under way, so exit never hangs.</summary>
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(5);

    private static readonly ConditionalWeakTable<Runspace, RunspaceSessions> s_byRunspace = new();

    // Only for code that runs without a runspace (never the case for cmdlets or completers).
    private static readonly RunspaceSessions s_noRunspace = new();

    // Closings under way, whoever started them: process exit waits for them.
    private static readonly ConcurrentDictionary<Task, byte> s_closing = new();

    public static RunspaceSessions Current => For(Runspace.DefaultRunspace);

    static SessionRegistry()
    {
        // pwsh closes its runspace just before process exit, which starts the same closings: they are waited for too.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var (_, state) in s_byRunspace) state.CloseAll();
            s_noRunspace.CloseAll();
            try { Task.WaitAll(s_closing.Keys.ToArray(), ExitTimeout); }
            catch (Exception) { /* exiting anyway: a goodbye that failed has nothing left to clean up */ }
        };
    }

    public static RunspaceSessions For(Runspace? runspace)
    {
        if (runspace is null) return s_noRunspace;
        return s_byRunspace.GetValue(runspace, rs =>
        {
            var state = new RunspaceSessions();
            rs.StateChanged += (_, e) =>
            {
                if (e.RunspaceStateInfo.State is RunspaceState.Closed or RunspaceState.Broken)
                    state.CloseAll();
            };
            return state;
        });
    }

    /// <summary>Closes a session through the runspace that owns it.</summary>
    public static Task<Exception?> CloseAsync(DxlSession session) => (session.Owner ?? s_noRunspace).CloseAsync(session);

    /// <summary>Keeps a closing in view of process exit until it ends.</summary>
    internal static Task<Exception?> Track(Task<Exception?> task)
    {
        s_closing.TryAdd(task, 0);
        _ = task.ContinueWith(static t => s_closing.TryRemove(t, out _), TaskScheduler.Default);
        return task;
    }
}

/// <summary>Remove-Module TieDxl: close the sessions and the test fabric of the runspace that removes it.</summary>
public sealed class TieDxlModuleCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => SessionRegistry.Current.CloseAll();
}
