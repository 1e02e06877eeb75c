using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace TieDxl.Session;

/// <summary>
/// The open sessions of one runspace and its default session. Thread-safe: a session may be used from
/// other runspaces (-Session $using:s), and the runspace's close event arrives on another thread.
/// </summary>
internal sealed class RunspaceSessions
{
    private readonly object _gate = new();
    private readonly List<DxlSession> _sessions = new();
    private DxlSession? _default;
    private int _lastId;

    public int NextId()
    {
        lock (_gate) return ++_lastId;
    }

    public DxlSession? Default
    {
        get { lock (_gate) return _default; }
    }

    public IReadOnlyList<DxlSession> Snapshot()
    {
        lock (_gate) return _sessions.ToArray();
    }

    public DxlSession? FindByName(string name)
    {
        lock (_gate) return _sessions.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Adds the session; it becomes the default.</summary>
    public void Add(DxlSession session)
    {
        lock (_gate)
        {
            _sessions.Add(session);
            _default = session;
        }
    }

    /// <summary>Removes the session; if it was the default there is no default any more.</summary>
    public bool Remove(DxlSession session)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_default, session)) _default = null;
            return _sessions.Remove(session);
        }
    }

    public IReadOnlyList<DxlSession> RemoveAll()
    {
        lock (_gate)
        {
            var all = _sessions.ToArray();
            _sessions.Clear();
            _default = null;
            return all;
        }
    }
}

/// <summary>
/// Per-runspace session state, keyed on <see cref="Runspace.DefaultRunspace"/> (the runspace of the calling
/// pipeline thread). A ConditionalWeakTable does not keep a dead runspace alive, and parallel runspaces
/// (ForEach-Object -Parallel, thread jobs) each get their own, empty state.
/// </summary>
internal static class SessionRegistry
{
    private static readonly ConditionalWeakTable<Runspace, RunspaceSessions> s_byRunspace = new();

    // Only for code that runs without a runspace (never the case for cmdlets or completers).
    private static readonly RunspaceSessions s_noRunspace = new();

    // Goodbyes under way, whoever started them (runspace close, module removal, process exit).
    private static readonly ConcurrentDictionary<Task, byte> s_closing = new();
    // Taking sessions out and registering their goodbyes is one step, so process exit never sees one without the other.
    private static readonly object s_closeLock = new();

    public static RunspaceSessions Current => For(Runspace.DefaultRunspace);

    static SessionRegistry()
    {
        // Process exit: an orderly goodbye for every session (flushes in-flight publishes), bounded so exit never hangs.
        // pwsh closes its runspace just before, which starts the same goodbye: those closings are waited for too.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Task[] closing;
            lock (s_closeLock)
            {
                foreach (var (_, state) in s_byRunspace) CloseAll(state);
                CloseAll(s_noRunspace);
                closing = s_closing.Keys.ToArray();
            }
            try { Task.WaitAll(closing, TimeSpan.FromSeconds(5)); }
            catch (Exception) { /* exiting anyway */ }
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
                    CloseAll(state);
            };
            return state;
        });
    }

    /// <summary>Disconnects every session of a runspace that is going away (best effort; the caller may wait).</summary>
    internal static List<Task> CloseAll(RunspaceSessions state)
    {
        var closing = new List<Task>();
        lock (s_closeLock)
        {
            foreach (var s in state.RemoveAll())
            {
                s.MarkClosed();
                var task = Task.Run(async () =>
                {
                    try { await s.Client.DisposeAsync().ConfigureAwait(false); }
                    catch (Exception) { /* the runspace is gone; nobody to tell */ }
                });
                s_closing.TryAdd(task, 0);
                _ = task.ContinueWith(static t => s_closing.TryRemove(t, out _), TaskScheduler.Default);
                closing.Add(task);
            }
        }
        return closing;
    }
}

/// <summary>Remove-Module TieDxl: close the sessions of the runspace that removes it.</summary>
public sealed class TieDxlModuleCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => SessionRegistry.CloseAll(SessionRegistry.Current);
}
