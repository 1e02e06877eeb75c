using System.Diagnostics;
using System.Security.Cryptography;
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
        var hashes = RandomMd5s(count);
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

    /// <summary>
    /// Bytes allocated in this process per TieClient lookup: distinct random MD5s (nothing a cache or a shared object
    /// could answer), warm, 64 in flight, the TIE service in another process. GC.GetTotalAllocatedBytes(precise) counts
    /// every thread's allocations exactly, so the figure does not move with the machine's load: the median of
    /// <paramref name="runs"/> runs is reported with the others in the note.
    /// </summary>
    public static async Task<BenchResult> MeasureBytesAsync(string brokerName, string configPath, int count, int runs, AllocationProfile? profile)
    {
        await using var client = new DxlClient(TieDxl.Dxl.Config.DxlClientConfig.Load(configPath));
        await client.ConnectAsync();
        var tie = new TieClient(client);
        await LookUpAllAsync(tie, RandomMd5s(count)); // warm-up: JIT tiers, pools, the connection's buffers
        var perLookup = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var hashes = RandomMd5s(count);
            GC.Collect();
            profile?.Start();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await LookUpAllAsync(tie, hashes);
            var after = GC.GetTotalAllocatedBytes(precise: true);
            profile?.Stop();
            perLookup.Add((after - before) / (double)count);
        }
        perLookup.Sort();
        var median = Math.Round(perLookup[perLookup.Count / 2]);
        return new BenchResult("bytes", brokerName, "TieClient, bytes allocated per lookup", count, 0, median, null, null, null,
            $"B/lookup, median of {runs} runs ({string.Join(", ", perLookup.Select(b => Math.Round(b)))})");
    }

    private static async Task LookUpAllAsync(TieClient tie, TieHashes[] hashes, int inFlight = 64)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < hashes.Length)
                await tie.GetFileReputationAsync(hashes[i]).ConfigureAwait(false);
        }));
    }

    /// <summary>Distinct random MD5s: a lookup per hash that no cache or shared answer can stand in for.</summary>
    internal static TieHashes[] RandomMd5s(int count)
    {
        var hashes = new TieHashes[count];
        Span<byte> digest = stackalloc byte[16];
        for (var i = 0; i < count; i++)
        {
            RandomNumberGenerator.Fill(digest);
            hashes[i] = TieHashes.FromBytes(HashType.Md5, digest);
        }
        return hashes;
    }
}
