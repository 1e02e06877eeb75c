using System.Diagnostics;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;

namespace TieDxl.Bench;

/// <summary>
/// Scenario 1: a trivial echo service on our DXL client and one requester with N requests in flight (closed loop).
/// This is the limit the broker and transport allow on this machine.
/// </summary>
internal static class CeilingBenchmark
{
    public static async Task<List<BenchResult>> RunAsync(string brokerName, Func<DxlClientConfig> newConfig, int[] inFlight, TimeSpan duration)
    {
        var results = new List<BenchResult>();
        var topic = "/tiedxl/bench/echo";
        await using var service = new DxlClient(newConfig());
        await service.ConnectAsync();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/bench/echo").AddHandler(topic,
            (request, _) => ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, request.Payload))), acknowledgementTimeout: null);
        await Task.Delay(300); // registration reaches a DXL broker before the first request
        await using var client = new DxlClient(newConfig());
        await client.ConnectAsync();

        // 300-byte payload, as in the performance notes' measurements.
        var payload = new byte[300];
        Array.Fill(payload, (byte)'x');
        await Measure(client, topic, payload, 16, TimeSpan.FromSeconds(1)); // warm-up: JIT, TLS, pools
        foreach (var n in inFlight)
        {
            var (count, latencies, elapsed) = await Measure(client, topic, payload, n, duration);
            results.Add(BenchResult.FromLatencies("ceiling", brokerName, $"echo, {n} in flight", count, elapsed, latencies));
        }
        return results;
    }

    internal static async Task<(long count, List<double> latenciesMs, TimeSpan elapsed)> Measure(DxlClient client, string topic, byte[] payload, int inFlight, TimeSpan duration)
    {
        var stop = Stopwatch.StartNew();
        var perWorker = new List<double>[inFlight];
        var workers = Enumerable.Range(0, inFlight).Select(async w =>
        {
            var latencies = perWorker[w] = new List<double>(4096);
            var watch = new Stopwatch();
            while (stop.Elapsed < duration)
            {
                watch.Restart();
                await client.RequestAsync(new DxlRequest(topic, payload), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                latencies.Add(watch.Elapsed.TotalMilliseconds);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var elapsed = stop.Elapsed;
        var all = perWorker.SelectMany(l => l).ToList();
        return (all.Count, all, elapsed);
    }
}
