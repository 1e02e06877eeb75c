using BitFaster.Caching.Lru;

namespace TieDxl.Tie.Caching;

/// <summary>
/// Within one run, work named by the same key is done once: the first caller starts it, every later caller with
/// the same key gets the same task, in flight or finished, failures included (each caller then reports the failure
/// as its own). Memory stays bounded: the last <see cref="Capacity"/> keys are remembered (BitFaster.Caching's
/// concurrent LRU); a key pushed out by newer ones is simply worked again. What is in flight is bounded by the
/// run's throttle, far below the capacity, so an answer still in flight is not pushed out in practice.
/// </summary>
/// <typeparam name="TKey">What names the work (for example <see cref="TieReputationKey"/>).</typeparam>
/// <typeparam name="TValue">What the work gives.</typeparam>
public sealed class TieRunSharing<TKey, TValue> where TKey : notnull
{
    /// <summary>Keys remembered by default: far more than can be in flight (the throttle is at most 1,024), a few MB at most.</summary>
    public const int DefaultCapacity = 16_384;

    private readonly FastConcurrentLru<TKey, TaskCompletionSource<TValue>> _work;

    public TieRunSharing(int capacity = DefaultCapacity)
    {
        if (capacity < 3) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity must be at least 3.");
        Capacity = capacity;
        _work = new FastConcurrentLru<TKey, TaskCompletionSource<TValue>>(capacity);
    }

    /// <summary>How many keys are remembered at most.</summary>
    public int Capacity { get; }

    /// <summary>How many callers got the work of an earlier caller instead of starting it.</summary>
    public long SharedCount => Interlocked.Read(ref _shared);
    private long _shared;

    /// <summary>
    /// The task of the work named <paramref name="key"/>: started now with <paramref name="work"/>(<paramref name="state"/>)
    /// when no caller of this run started it (or it was pushed out), else the one already started.
    /// <paramref name="shared"/> tells which.
    /// </summary>
    public Task<TValue> GetOrStart<TState>(TKey key, TState state, Func<TState, Task<TValue>> work, out bool shared)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_work.TryGet(key, out var existing))
        {
            Interlocked.Increment(ref _shared);
            shared = true;
            return existing.Task;
        }
        // Made cold and started only by the caller whose copy went in: two callers racing start the work once.
        var mine = new TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        var kept = _work.GetOrAdd(key, static (_, m) => m, mine);
        if (!ReferenceEquals(kept, mine))
        {
            Interlocked.Increment(ref _shared);
            shared = true;
            return kept.Task;
        }
        shared = false;
        _ = CompleteAsync(mine, work, state);
        return mine.Task;
    }

    private static async Task CompleteAsync<TState>(TaskCompletionSource<TValue> completion, Func<TState, Task<TValue>> work, TState state)
    {
        try
        {
            completion.TrySetResult(await work(state).ConfigureAwait(false));
        }
        catch (OperationCanceledException e)
        {
            completion.TrySetCanceled(e.CancellationToken);
        }
        catch (Exception e)
        {
            completion.TrySetException(e);
        }
    }
}
