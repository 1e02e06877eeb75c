using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using TieDxl.Tie;

namespace TieDxl.Tests.Reliability;

/// <summary>What a bulk run of lookups produced: results, errors with the time each failed, and the wall time.</summary>
internal sealed class BulkRun
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _completed;
    private int _results;

    public int Completed => Volatile.Read(ref _completed);
    public int Results => Volatile.Read(ref _results);
    public ConcurrentQueue<(TimeSpan At, Exception Error)> Errors { get; } = new();
    public TimeSpan Elapsed { get; private set; }
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Fresh random files, unknown to the simulator (answered as "Enterprise not set").</summary>
    public static TieHashes[] NewFiles(int count) => Enumerable.Range(0, count).Select(_ =>
    {
        var data = RandomNumberGenerator.GetBytes(16);
        return TieHashes.Create(Convert.ToHexString(MD5.HashData(data)), Convert.ToHexString(SHA1.HashData(data)), Convert.ToHexString(SHA256.HashData(data)));
    }).ToArray();

    /// <summary>Runs <paramref name="count"/> lookups, <paramref name="inFlight"/> at a time (a bounded pipeline, like -ThrottleLimit).</summary>
    public static BulkRun Start(TieClient tie, int count, int inFlight, TimeSpan? timeout, out Task completion, CancellationToken cancellationToken = default)
    {
        var run = new BulkRun();
        var files = NewFiles(count);
        completion = Task.Run(async () =>
        {
            using var throttle = new SemaphoreSlim(inFlight);
            var tasks = new List<Task>(count);
            foreach (var file in files)
            {
                await throttle.WaitAsync(cancellationToken);
                tasks.Add(Task.Run(async () =>
                {
                    try
                    {
                        var result = await tie.GetFileReputationAsync(file, timeout, cancellationToken);
                        if (result.Hashes.Equals(file)) Interlocked.Increment(ref run._results);
                        else run.Errors.Enqueue((run.Now, new InvalidOperationException("the answer was for another file")));
                    }
                    catch (Exception e)
                    {
                        run.Errors.Enqueue((run.Now, e));
                    }
                    finally
                    {
                        Interlocked.Increment(ref run._completed);
                        throttle.Release();
                    }
                }, CancellationToken.None));
            }
            await Task.WhenAll(tasks);
            run.Elapsed = run._clock.Elapsed;
        }, CancellationToken.None);
        return run;
    }

    /// <summary>The first few errors, for an assertion message.</summary>
    public string ErrorSummary() =>
        $"{Errors.Count} error(s): " + string.Join(" | ", Errors.Take(3).Select(e => $"{e.At.TotalSeconds:0.0}s {e.Error.GetType().Name}: {e.Error.Message}"));
}
