using System.Diagnostics;
using TieDxl.Dxl.Client;
using TieDxl.Tie;

namespace TieDxl.Bench;

/// <summary>TIE lookups straight through TieClient (no PowerShell), N in flight: what the cmdlet layer costs on top.</summary>
internal static class TieLookupBenchmark
{
    public static async Task<BenchResult> RunAsync(string brokerName, string configPath, int inFlight, int count)
    {
        await using var client = new DxlClient(TieDxl.Dxl.Config.DxlClientConfig.Load(configPath));
        await client.ConnectAsync();
        var tie = new TieClient(client);
        var hashes = Enumerable.Range(1, count).Select(i => TieHashes.FromHex(HashType.Md5, i.ToString("x32"))).ToArray();
        for (var i = 0; i < 500; i++) await tie.GetFileReputationAsync(hashes[i % hashes.Length]); // warm-up
        var next = -1;
        var latencies = new List<double>[inFlight];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async w =>
        {
            var mine = latencies[w] = new List<double>();
            var one = new Stopwatch();
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                one.Restart();
                await tie.GetFileReputationAsync(hashes[i]).ConfigureAwait(false);
                mine.Add(one.Elapsed.TotalMilliseconds);
            }
        }));
        return BenchResult.FromLatencies("tie api", brokerName, $"TieClient lookups, {inFlight} in flight", count, watch.Elapsed, latencies.SelectMany(l => l).ToList());
    }
}
