using System.Text.Json;

namespace TieDxl.Bench;

/// <summary>One row of the results table; printed as a JSON line so build.ps1 can assemble the table.</summary>
internal sealed record BenchResult(string Scenario, string Broker, string Case, long Count, double Seconds, double PerSecond, double? P50Ms, double? P99Ms, long? PeakWorkingSetMb = null, string? Note = null)
{
    public static BenchResult FromLatencies(string scenario, string broker, string @case, long count, TimeSpan elapsed, List<double> latencies)
    {
        latencies.Sort();
        double? Percentile(double p) => latencies.Count == 0 ? null : Math.Round(latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))], 3);
        return new BenchResult(scenario, broker, @case, count, Math.Round(elapsed.TotalSeconds, 2), Math.Round(count / elapsed.TotalSeconds), Percentile(0.50), Percentile(0.99));
    }

    public string ToJson() => JsonSerializer.Serialize(this);
}
