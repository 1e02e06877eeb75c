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

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var copy = buffer.ToArray();
            await Gate.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            if (FailWith is not null) throw FailWith;
            lock (Writes) Writes.Add(copy);
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
}
