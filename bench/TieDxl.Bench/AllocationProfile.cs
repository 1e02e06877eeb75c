using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace TieDxl.Bench;

/// <summary>
/// Samples the runtime's GC allocation ticks (one event about every 100 KB allocated, naming the type of the object
/// that crossed the mark) while it is enabled: over many thousands of lookups the counts per type show where the bytes
/// go, without a profiler attached.
/// </summary>
public sealed class AllocationProfile : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private volatile bool _recording;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var type = e.PayloadNames?.IndexOf("TypeName") is { } t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames?.IndexOf("AllocationAmount64") is { } a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        _bytesByType.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    /// <summary>The <paramref name="top"/> types by sampled bytes, with their share, one per line.</summary>
    public IEnumerable<string> Report(int top = 25)
    {
        var total = Math.Max(1, _bytesByType.Values.Sum());
        return _bytesByType.OrderByDescending(kv => kv.Value).Take(top)
            .Select(kv => $"{100.0 * kv.Value / total,5:0.0}%  {kv.Key}");
    }
}
