namespace TieDxl.Pipeline;

/// <summary>
/// Runs work items concurrently (at most <c>throttleLimit</c> at once) and hands results back in the order the
/// items were queued, so a cmdlet can stream output in input order. Memory stays bounded: once
/// <see cref="MaxQueued"/> items are waiting, <see cref="TakeReady"/> blocks on the oldest.
/// Everything here is called from the pipeline thread only; the work itself runs on the thread pool.
/// </summary>
internal sealed class OrderedWorkQueue<T> : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly Queue<Task<T>> _queue = new();
    private readonly CancellationToken _cancellation;

    public OrderedWorkQueue(int throttleLimit, CancellationToken cancellation, int? maxQueued = null)
    {
        if (throttleLimit < 1) throw new ArgumentOutOfRangeException(nameof(throttleLimit));
        ThrottleLimit = throttleLimit;
        MaxQueued = maxQueued ?? Math.Max(64, throttleLimit * 4);
        _slots = new SemaphoreSlim(throttleLimit, throttleLimit);
        _cancellation = cancellation;
    }

    public int ThrottleLimit { get; }

    /// <summary>How long each item's work took once it had a slot (queueing excluded).</summary>
    public LatencyHistogram Latency { get; } = new();
    public int MaxQueued { get; }
    public int Count => _queue.Count;

    /// <summary>Queues <paramref name="work"/>; it starts as soon as a slot is free. Never blocks.</summary>
    public void Enqueue(Func<CancellationToken, Task<T>> work) => _queue.Enqueue(RunAsync(work));

    private async Task<T> RunAsync(Func<CancellationToken, Task<T>> work)
    {
        await _slots.WaitAsync(_cancellation).ConfigureAwait(false);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return await work(_cancellation).ConfigureAwait(false);
        }
        finally
        {
            Latency.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started));
            _slots.Release();
        }
    }

    /// <summary>
    /// Results that can be written now, oldest first: every finished item at the head of the queue, and, while the
    /// queue is over its bound, the oldest items even if that means waiting for them.
    /// </summary>
    public IEnumerable<T> TakeReady()
    {
        while (_queue.Count > 0 && (_queue.Peek().IsCompleted || _queue.Count > MaxQueued))
            yield return Wait(_queue.Dequeue());
    }

    /// <summary>Every remaining result in order, waiting for each (end of the pipeline).</summary>
    public IEnumerable<T> TakeAll()
    {
        while (_queue.Count > 0)
            yield return Wait(_queue.Dequeue());
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

    public void Dispose() => _slots.Dispose();
}
