using TieDxl.Dxl.Bulk;

namespace TieDxl.Tests.Infrastructure;

public sealed class OrderedWorkQueueTests
{
    [Fact]
    public async Task ResultsComeBackInInputOrderWithAtMostTheThrottleRunning()
    {
        var running = 0;
        var peak = 0;
        using var queue = new OrderedWorkQueue<int>(4, CancellationToken.None, maxQueued: 16);
        var results = new List<int>();
        for (var i = 0; i < 100; i++)
        {
            var n = i;
            queue.Enqueue(async _ =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                await Task.Delay(Random.Shared.Next(0, 5));
                Interlocked.Decrement(ref running);
                return n;
            });
            while (queue.IsFull) { await queue.Oldest!; Take(queue, results); }
            Take(queue, results);
        }
        while (queue.Oldest is { } oldest) { await oldest; Take(queue, results); }
        Assert.Equal(Enumerable.Range(0, 100), results);
        Assert.InRange(peak, 1, 4);
        Assert.Equal(100, queue.Latency.Count);
    }

    [Fact]
    public async Task ItemsWaitingForASlotNeverStartOnceDisposed()
    {
        var gate = new TaskCompletionSource<int>();
        var started = 0;
        var queue = new OrderedWorkQueue<int>(1, CancellationToken.None);
        queue.Enqueue(_ => gate.Task);
        queue.Enqueue(_ => { started++; return Task.FromResult(2); });
        queue.Dispose();
        gate.SetResult(1);
        await queue.Oldest!;
        Assert.Equal(0, started);
        Assert.True(queue.TryTakeFinished(out var first));
        Assert.Equal(1, await first);
        Assert.True(queue.TryTakeFinished(out var second));
        Assert.True(second.IsCanceled);
    }

    private static void Take(OrderedWorkQueue<int> queue, List<int> results)
    {
        while (queue.TryTakeFinished(out var done)) results.Add(done.Result);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
