namespace TieDxl.Dxl.Bulk;

/// <summary>
/// Request latencies in logarithmic buckets (5% apart, 1 µs to ~20 min): constant memory whatever the count, so a
/// 100,000-item pipeline can report its p50/p99 without keeping every sample. Thread-safe.
/// </summary>
public sealed class LatencyHistogram
{
    private const double Growth = 1.05;
    private static readonly double LogGrowth = Math.Log(Growth);
    private readonly long[] _buckets = new long[430];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Record(TimeSpan elapsed)
    {
        var micros = Math.Max(1.0, elapsed.Ticks / 10.0);
        var index = Math.Min(_buckets.Length - 1, (int)(Math.Log(micros) / LogGrowth));
        Interlocked.Increment(ref _buckets[index]);
        Interlocked.Increment(ref _count);
    }

    /// <summary>The latency below which <paramref name="fraction"/> of the samples fall (upper bucket bound).</summary>
    public TimeSpan Percentile(double fraction)
    {
        var total = Count;
        if (total == 0) return TimeSpan.Zero;
        var rank = (long)Math.Ceiling(fraction * total);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= rank) return TimeSpan.FromTicks((long)(Math.Pow(Growth, i + 1) * 10));
        }
        return TimeSpan.FromTicks((long)(Math.Pow(Growth, _buckets.Length) * 10));
    }
}
