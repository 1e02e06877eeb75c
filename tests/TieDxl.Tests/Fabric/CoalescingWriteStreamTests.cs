using TieDxl.Fabric.Broker;

namespace TieDxl.Tests.Fabric;

public class CoalescingWriteStreamTests
{
    /// <summary>An inner stream whose writes wait for the test to release them, recording what each one carried.</summary>
    private sealed class GatedStream : Stream
    {
        public readonly List<byte[]> Writes = new();
        public SemaphoreSlim Gate { get; } = new(0);
        public Exception? FailWith { get; set; }
        public bool Disposed { get; private set; }

        private int _inFlight;

        /// <summary>The most writes ever under way at once: SslStream allows one.</summary>
        public int MaxInFlight { get; private set; }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var now = Interlocked.Increment(ref _inFlight);
            lock (Writes) MaxInFlight = Math.Max(MaxInFlight, now);
            try
            {
                var copy = buffer.ToArray();
                await Gate.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                if (FailWith is not null) throw FailWith;
                lock (Writes) Writes.Add(copy);
            }
            finally { Interlocked.Decrement(ref _inFlight); }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => 0;
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) => Disposed = true;
    }

    [Fact]
    public async Task WritesQueuedDuringASendGoOutTogetherInOrder()
    {
        var inner = new GatedStream();
        var stream = new CoalescingWriteStream(inner);

        // The first write goes straight to the inner stream (and waits there); the next ones queue behind it.
        await stream.WriteAsync(new byte[] { 1 });
        for (byte b = 2; b <= 5; b++) await stream.WriteAsync(new[] { b });
        inner.Gate.Release(2);
        await stream.FlushAsync();

        Assert.Equal(2, inner.Writes.Count);
        Assert.Equal(new byte[] { 1 }, inner.Writes[0]);
        Assert.Equal(new byte[] { 2, 3, 4, 5 }, inner.Writes[1]);
    }

    [Fact]
    public async Task AWriterWaitsWhenThePeerStopsReading()
    {
        var inner = new GatedStream();
        var stream = new CoalescingWriteStream(inner, maxPendingBytes: 10);
        await stream.WriteAsync(new byte[4]); // on its way, held by the gate
        await stream.WriteAsync(new byte[8]); // queued (8 bytes)
        var blocked = stream.WriteAsync(new byte[8]).AsTask(); // 16 > 10: waits

        await Task.Delay(200);
        Assert.False(blocked.IsCompleted);
        inner.Gate.Release(3);
        await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        await stream.FlushAsync();
        Assert.Equal(20, inner.Writes.Sum(w => w.Length));
    }

    [Fact]
    public async Task AFailedSendFailsLaterWritesAndClosesTheStream()
    {
        var inner = new GatedStream { FailWith = new IOException("connection reset") };
        var stream = new CoalescingWriteStream(inner);
        await stream.WriteAsync(new byte[] { 1 });
        inner.Gate.Release();

        await Assert.ThrowsAsync<IOException>(() => stream.FlushAsync());
        var later = await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(new byte[] { 2 }).AsTask());
        Assert.Contains("connection reset", later.Message);
        Assert.True(inner.Disposed);
    }

    [Fact]
    public async Task ManyConcurrentWritersNeverOverlapOnTheInnerStreamAndLoseNothing()
    {
        var inner = new GatedStream();
        inner.Gate.Release(100_000);
        var stream = new CoalescingWriteStream(inner);
        // Unlike MQTTnet (one writer at a time), 8 writers at once: the wrapper must still send one batch at a time.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++) await stream.WriteAsync(new[] { (byte)w });
        })));
        await stream.FlushAsync();

        Assert.Equal(1, inner.MaxInFlight);
        var all = inner.Writes.SelectMany(x => x).ToArray();
        Assert.Equal(4000, all.Length);
        Assert.All(Enumerable.Range(0, 8), w => Assert.Equal(500, all.Count(b => b == w)));
    }

    [Fact]
    public async Task ClosingLetsQueuedPacketsGoOutFirst()
    {
        var inner = new GatedStream();
        var stream = new CoalescingWriteStream(inner);
        await stream.WriteAsync(new byte[] { 1 });
        await stream.WriteAsync(new byte[] { 2, 3 });
        _ = Task.Run(async () => { await Task.Delay(100); inner.Gate.Release(2); });

        await stream.DisposeAsync();

        Assert.True(inner.Disposed);
        Assert.Equal(new byte[] { 1, 2, 3 }, inner.Writes.SelectMany(x => x).ToArray());
    }
}
