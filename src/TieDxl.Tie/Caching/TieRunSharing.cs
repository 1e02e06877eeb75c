using BitFaster.Caching;
using BitFaster.Caching.Lru;

namespace TieDxl.Tie.Caching;

/// <summary>
/// Within one run, work named by the same key is done once: the first caller starts it, every later caller with
/// the same key gets the same task, in flight or finished, failures included (each caller then reports the failure
/// as its own). Memory stays bounded: the last <see cref="Capacity"/> keys are remembered (BitFaster.Caching's
/// concurrent LRU, with its atomic GetOrAdd so that callers racing on one key start the work once); a key pushed
/// out by newer ones is simply worked again. What is in flight is bounded by the run's throttle, far below the
/// capacity, so an answer still in flight is not pushed out in practice.
/// </summary>
/// <typeparam name="TKey">What names the work (for example <see cref="TieReputationKey"/>).</typeparam>
/// <typeparam name="TValue">What the work gives.</typeparam>
public sealed class TieRunSharing<TKey, TValue> where TKey : notnull
{
    /// <summary>Keys remembered by default: far more than can be in flight (the throttle is at most 1,024), a few MB at most.</summary>
    public const int DefaultCapacity = 16_384;

    // The task whose work this thread's GetOrAdd call just started: the atomic factory runs on the calling thread,
    // so this tells the caller that started the work from the callers that got it (no allocation per call).
    [ThreadStatic] private static Task<TValue>? t_started;

    private readonly ICache<TKey, Task<TValue>> _work;
    private long _shared;

    public TieRunSharing(int capacity = DefaultCapacity)
    {
        if (capacity < 3) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity must be at least 3.");
        Capacity = capacity;
        _work = new ConcurrentLruBuilder<TKey, Task<TValue>>().WithCapacity(capacity).WithAtomicGetOrAdd().Build();
    }

    /// <summary>How many keys are remembered at most.</summary>
    public int Capacity { get; }

    /// <summary>How many callers got the work of an earlier caller instead of starting it.</summary>
    public long SharedCount => Interlocked.Read(ref _shared);

    /// <summary>
    /// The task of the work named <paramref name="key"/>: started now with <paramref name="work"/>(<paramref name="state"/>)
    /// when no caller of this run started it (or it was pushed out), else the one already started.
    /// <paramref name="shared"/> tells which.
    /// </summary>
    public Task<TValue> GetOrStart<TState>(TKey key, TState state, Func<TState, Task<TValue>> work, out bool shared)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!_work.TryGet(key, out var task))
        {
            t_started = null;
            task = _work.GetOrAdd(key, static (_, w) => t_started = w.Work(w.State), (Work: work, State: state));
            var mine = ReferenceEquals(task, t_started);
            t_started = null;
            if (mine)
            {
                shared = false;
                return task;
            }
        }
        Interlocked.Increment(ref _shared);
        shared = true;
        return task;
    }
}
