using System.Collections.Concurrent;
using System.Management.Automation;

namespace TieDxl.Commands;

/// <summary>
/// Base of the Receive-* cmdlets: subscribes, then writes what arrives (queued from other threads, written on the
/// pipeline thread only) until -Count items were written, -TimeoutSec passed, or the pipeline stops; unsubscribes
/// on the way out.
/// </summary>
public abstract class ReceiveCmdletBase<T> : TieDxlCmdletBase
{
    private readonly ConcurrentQueue<T> _received = new();

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int TimeoutSec { get; set; }

    [Parameter]
    [DxlSessionTransformation]
    [ArgumentCompleter(typeof(DxlSessionNameCompleter))]
    public DxlSession? Session { get; set; }

    private protected int Limit => MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : int.MaxValue;

    /// <summary>Callback for the subscriptions: safe from any thread.</summary>
    private protected Task Enqueue(T item)
    {
        _received.Enqueue(item);
        Wake();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Makes every subscription (a failure stops the command, named by its target), streams until done, and
    /// returns how many items were written.
    /// </summary>
    private protected int Receive(DxlSession session, IEnumerable<(object Target, string Label, Func<CancellationToken, Task<IAsyncDisposable>> Subscribe)> subscriptions)
    {
        DateTime? deadline = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? DateTime.UtcNow.AddSeconds(TimeoutSec) : null;
        var active = new List<IAsyncDisposable>();
        using var log = session.AttachLog(PostLog);
        // The client re-subscribes by itself after a reconnect; what was published while it was away is gone.
        EventHandler<Dxl.Client.DxlOutage> onReconnected = (_, outage) => Post(() => WriteWarning(string.Format(
            System.Globalization.CultureInfo.InvariantCulture,
            "The connection to the DXL fabric was down from {0:HH:mm:ss} to {1:HH:mm:ss} UTC ({2:0.#} s; {3}): events published in that window were not received. Subscriptions are restored and receiving goes on.",
            outage.DisconnectedAt.UtcDateTime, outage.ReconnectedAt.UtcDateTime, outage.Duration.TotalSeconds, outage.Reason)));
        session.Client.Reconnected += onReconnected;
        try
        {
            foreach (var (target, label, subscribe) in subscriptions)
            {
                try
                {
                    active.Add(RunSync(subscribe, TimeSpan.FromSeconds(120)));
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    ThrowDxlError(ex, target);
                }
                WriteVerbose($"Subscribed to {label}.");
            }
            return StreamQueued(Limit, deadline);
        }
        finally
        {
            session.Client.Reconnected -= onReconnected;
            try { Task.WhenAll(active.Select(s => s.DisposeAsync().AsTask())).Wait(TimeSpan.FromSeconds(5)); }
            catch (Exception) { /* best effort: the subscriptions end with the session at the latest */ }
        }
    }

    private int StreamQueued(int limit, DateTime? deadline)
    {
        var written = 0;
        while (true)
        {
            while (written < limit && _received.TryDequeue(out var item))
            {
                WriteObject(item);
                written++;
            }
            if (written >= limit) return written;
            var wait = System.Threading.Timeout.InfiniteTimeSpan;
            if (deadline is { } d)
            {
                wait = d - DateTime.UtcNow;
                if (wait <= TimeSpan.Zero) return written;
            }
            WaitForPosted(wait);
        }
    }
}
