using System.Diagnostics;

namespace TieDxl.Pipeline;

/// <summary>
/// Runs work items concurrently (at most <c>throttleLimit</c> at once) and hands results back in the order the
/// items were queued, so a cmdlet can stream output in input order. Memory stays bounded: once
/// <see cref="MaxQueued"/> items are waiting, <see cref="TakeReady"/> blocks on the oldest.
/// Enqueue and Take* are called from the pipeline thread only. When an item finishes, the next waiting one starts
/// on the same thread-pool thread (no semaphore hand-off, so no extra thread hop per item).
/// </summary>
internal sealed class OrderedWorkQueue<T> : IDisposable
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

    /// <summary>
    /// Results that can be written now, oldest first: every finished item at the head of the queue, and, while the
    /// queue is over its bound, the oldest items even if that means waiting for them.
    /// </summary>
    public IEnumerable<T> TakeReady()
    {
        while (_results.Count > 0 && (_results.Peek().IsCompleted || _results.Count > MaxQueued))
            yield return Wait(_results.Dequeue());
    }

    /// <summary>Every remaining result in order, waiting for each (end of the pipeline).</summary>
    public IEnumerable<T> TakeAll()
    {
        while (_results.Count > 0)
            yield return Wait(_results.Dequeue());
    }

    /// <summary>
    /// Waits for one task. A cancelled wait throws OperationCanceledException, which the cmdlet turns into
    /// PipelineStoppedException; work failures must be caught inside the work and returned as results.
    /// </summary>
    private T Wait(Task<T> task)
    {
        if (!task.IsCompleted) task.Wait(_cancellation);
        return task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        // Items still waiting when the pipeline stops never start.
        lock (_gate)
            while (_waiting.TryDequeue(out var waiting)) waiting.Result.TrySetCanceled();
    }
}
