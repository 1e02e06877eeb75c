namespace TieDxl.Fabric.Broker;

/// <summary>
/// Write-combining wrapper for a connection's TLS stream. MQTTnet's server writes one packet per call and waits for
/// each; with many requests in flight that is one TLS record and one send system call per packet. Here a write that
/// arrives while an earlier one is still on its way is appended to a buffer, and the next send carries everything
/// queued by then: under load many packets share a record and a system call, and an idle connection still sends
/// each packet at once (no delay, unlike Nagle).
/// Reads pass straight through. A failed send fails every later write and closes the inner stream, so the
/// broker's read loop ends and the connection is dropped, as it would be after a failed direct write.
/// </summary>
internal sealed class CoalescingWriteStream : Stream
{
    private readonly Stream _inner;
    private readonly int _maxPending;
    private readonly object _gate = new();
    private MemoryStream _pending = new();
    private MemoryStream _spare = new();
    private bool _running;
    private TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;

    public CoalescingWriteStream(Stream inner, int maxPendingBytes = 1 << 20)
    {
        _inner = inner;
        _maxPending = maxPendingBytes;
    }

    public override bool CanRead => _inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => _inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => _inner.Read(buffer);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.ReadAsync(buffer, offset, count, cancellationToken);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Task? wait = null;
        var start = false;
        lock (_gate)
        {
            if (_failure is not null) return ValueTask.FromException(new IOException("The connection failed: " + _failure.Message, _failure));
            _pending.Write(buffer.Span);
            if (!_running)
            {
                _running = true;
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                start = true;
            }
            // Back-pressure: a peer that does not read makes the writer wait rather than the buffer grow.
            else if (_pending.Length > _maxPending) wait = _idle.Task;
        }
        // Started outside the lock: the first send usually completes at once, on this thread.
        if (start) _ = FlushLoopAsync();
        return wait is null ? ValueTask.CompletedTask : new ValueTask(WaitForSendAsync(wait, cancellationToken));
    }

    private async Task WaitForSendAsync(Task idle, CancellationToken cancellationToken)
    {
        await idle.WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        var failure = Volatile.Read(ref _failure);
        if (failure is not null) throw new IOException("The connection failed: " + failure.Message, failure);
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            MemoryStream batch;
            TaskCompletionSource idle;
            lock (_gate)
            {
                idle = _idle;
                if (_pending.Length == 0)
                {
                    _running = false;
                    idle.TrySetResult();
                    return;
                }
                batch = _pending;
                _pending = _spare;
                _spare = batch;
            }
            try
            {
                await _inner.WriteAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _failure = e;
                    _pending.SetLength(0);
                    _running = false;
                }
                try { _inner.Dispose(); } catch (Exception) { /* already broken */ }
                idle.TrySetResult(); // waiters find _failure
                return;
            }
            batch.SetLength(0);
        }
    }

    public override void Flush() => FlushAsync().GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        Task idle;
        lock (_gate) idle = _running ? _idle.Task : Task.CompletedTask;
        await idle.WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    // Packets MQTTnet counts as sent may still be queued when it closes the channel (the last responses, a refusal):
    // they get a moment to go out first.
    private static readonly TimeSpan DrainOnClose = TimeSpan.FromSeconds(1);

    private Task Drained()
    {
        lock (_gate) return _running ? _idle.Task : Task.CompletedTask;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try { Drained().Wait(DrainOnClose); } catch (Exception) { /* closing anyway */ }
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        try { await Drained().WaitAsync(DrainOnClose).ConfigureAwait(false); } catch (Exception) { /* closing anyway */ }
        await _inner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
