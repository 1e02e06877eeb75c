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
    internal const string EchoTopic = "/tiedxl/bench/echo";

    /// <summary>A DXL client hosting the echo service (the caller disposes it).</summary>
    public static async Task<DxlClient> HostEchoAsync(Func<DxlClientConfig> newConfig)
    {
        var service = new DxlClient(newConfig());
        await service.ConnectAsync();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/bench/echo").AddHandler(EchoTopic,
            (request, _) => ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, request.Payload))), acknowledgementTimeout: null);
        await Task.Delay(300); // registration reaches a DXL broker before the first request
        return service;
    }

    /// <summary>Echo service and requester in this process (with the broker too, for the fabric).</summary>
    public static async Task<List<BenchResult>> RunAsync(string brokerName, Func<DxlClientConfig> newConfig, int[] inFlight, TimeSpan duration, int repeat = 1)
    {
        await using var service = await HostEchoAsync(newConfig);
        return await RunClientAsync(brokerName, newConfig, inFlight, duration, repeat, "");
    }

    /// <summary>
    /// The requester only, against an echo service that another process hosts (bench serve: beside the TIE simulator,
    /// and the fabric's broker). The same process layout as the pwsh scenarios: the client never shares a process with
    /// the service.
    /// </summary>
    public static Task<List<BenchResult>> RunRemoteAsync(string brokerName, Func<DxlClientConfig> newConfig, int[] inFlight, TimeSpan duration, int repeat) =>
        RunClientAsync(brokerName, newConfig, inFlight, duration, repeat, ", service in another process");

    /// <summary>Each level runs <paramref name="repeat"/> times; the run with the median rate is reported (a shared
    /// 2-core machine varies by a quarter between runs).</summary>
    private static async Task<List<BenchResult>> RunClientAsync(string brokerName, Func<DxlClientConfig> newConfig, int[] inFlight, TimeSpan duration, int repeat, string caseSuffix)
    {
        var results = new List<BenchResult>();
        await using var client = new DxlClient(newConfig());
        await client.ConnectAsync();

        // 300-byte payload, as in the measurements the socket settings were tuned with.
        var payload = new byte[300];
        Array.Fill(payload, (byte)'x');
        await Measure(client, EchoTopic, payload, 16, TimeSpan.FromSeconds(1)); // warm-up: JIT, TLS, pools
        foreach (var n in inFlight)
        {
            var runs = new List<(long count, List<double> latencies, TimeSpan elapsed)>();
            for (var r = 0; r < Math.Max(1, repeat); r++) runs.Add(await Measure(client, EchoTopic, payload, n, duration));
            runs.Sort((a, b) => (a.count / a.elapsed.TotalSeconds).CompareTo(b.count / b.elapsed.TotalSeconds));
            var (count, latencies, elapsed) = runs[runs.Count / 2];
            var result = BenchResult.FromLatencies("ceiling", brokerName, $"echo, {n} in flight{caseSuffix}", count, elapsed, latencies);
            if (runs.Count > 1)
                result = result with { Note = $"median of {runs.Count} runs ({string.Join(", ", runs.Select(x => Math.Round(x.count / x.elapsed.TotalSeconds)))}/s)" };
            results.Add(result);
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
