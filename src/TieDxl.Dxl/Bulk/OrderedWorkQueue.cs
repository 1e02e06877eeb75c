using System.Diagnostics;

namespace TieDxl.Dxl.Bulk;

/// <summary>
/// Runs work items concurrently (at most <c>throttleLimit</c> at once) and hands results back in the order the
/// items were queued, so a caller can stream output in input order. It never blocks: the caller keeps memory
/// bounded by waiting for <see cref="Oldest"/> (its own way, e.g. while pumping messages) once <see cref="IsFull"/>.
/// Enqueue and Take* are called from one thread. When an item finishes, the next waiting one starts on the same
/// thread-pool thread (no semaphore hand-off, so no extra thread hop per item).
/// </summary>
public sealed class OrderedWorkQueue<T> : IDisposable
{
    private readonly Queue<Task<T>> _results = new();
    private readonly Queue<(Func<CancellationToken, Task<T>> Work, TaskCompletionSource<T> Result)> _waiting = new();
    private readonly object _gate = new();
    private readonly CancellationToken _cancellation;
    private int _running;

    public OrderedWorkQueue(int throttleLimit, CancellationToken cancellation, int? maxQueued = null)
    {
        if (throttleLimit < 1) throw new ArgumentOutOfRangeException(nameof(throttleLimit));
        ThrottleLimit = throttleLimit;
        MaxQueued = maxQueued ?? Math.Max(64, throttleLimit * 4);
        _cancellation = cancellation;
    }

    public int ThrottleLimit { get; }
    public int MaxQueued { get; }
    public int Count => _results.Count;

    /// <summary>How long each item's work took once it started (waiting for a slot excluded).</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Queues <paramref name="work"/>; it starts now if a slot is free, else when one frees. Never blocks.</summary>
    public void Enqueue(Func<CancellationToken, Task<T>> work)
    {
        bool startNow;
        TaskCompletionSource<T>? later = null;
        lock (_gate)
        {
            startNow = _running < ThrottleLimit;
            if (startNow) _running++;
            else
            {
                later = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Enqueue((work, later));
            }
        }
        _results.Enqueue(startNow ? Start(work) : later!.Task);
    }

    private Task<T> Start(Func<CancellationToken, Task<T>> work)
    {
        var task = RunAsync(work);
        if (task.IsCompleted) StartNext();
        else task.ContinueWith(static (_, state) => ((OrderedWorkQueue<T>)state!).StartNext(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    private async Task<T> RunAsync(Func<CancellationToken, Task<T>> work)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            _cancellation.ThrowIfCancellationRequested();
            return await work(_cancellation).ConfigureAwait(false);
        }
        finally
        {
            Latency.Record(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Hands the freed slot to the oldest waiting item and runs it on this thread; items that finish at once are
    /// completed in a loop rather than by recursion.
    /// </summary>
    private void StartNext()
    {
        while (true)
        {
            (Func<CancellationToken, Task<T>> Work, TaskCompletionSource<T> Result) next;
            lock (_gate)
            {
                if (!_waiting.TryDequeue(out next))
                {
                    _running--;
                    return;
                }
            }
            var task = RunAsync(next.Work);
            if (task.IsCompleted)
            {
                Complete(task, next.Result);
                continue;
            }
            task.ContinueWith(static (t, state) =>
            {
                var (queue, result) = ((OrderedWorkQueue<T>, TaskCompletionSource<T>))state!;
                Complete(t, result);
                queue.StartNext();
            }, (this, next.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }
    }

    private static void Complete(Task<T> task, TaskCompletionSource<T> result)
    {
        if (task.IsCanceled) result.TrySetCanceled();
        else if (task.IsFaulted) result.TrySetException(task.Exception!.InnerExceptions);
        else result.TrySetResult(task.Result);
    }

    /// <summary>True while more items are queued than <see cref="MaxQueued"/>: wait for <see cref="Oldest"/> before queueing more.</summary>
    public bool IsFull => _results.Count > MaxQueued;

    /// <summary>The oldest item not taken yet, or null when none is queued.</summary>
    public Task<T>? Oldest => _results.Count > 0 ? _results.Peek() : null;

    /// <summary>Takes the oldest item when it has finished (its task, completed: read it with GetAwaiter().GetResult()).</summary>
    public bool TryTakeFinished(out Task<T> finished)
    {
        if (_results.Count > 0 && _results.Peek().IsCompleted)
        {
            finished = _results.Dequeue();
            return true;
        }
        finished = null!;
        return false;
    }

    public void Dispose()
    {
        // Items still waiting when the pipeline stops never start.
        lock (_gate)
            while (_waiting.TryDequeue(out var waiting)) waiting.Result.TrySetCanceled();
    }
}
