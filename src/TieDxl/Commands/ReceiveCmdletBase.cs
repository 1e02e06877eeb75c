using System.Management.Automation;
using TieDxl.Pipeline;

namespace TieDxl.Commands;

/// <summary>
/// Base of the Receive-* cmdlets: subscribes, then writes what arrives (posted to the channel by the
/// subscriptions, written on the pipeline thread) until -Count items were written, -TimeoutSec passed, or the
/// pipeline stops; unsubscribes on the way out.
/// </summary>
public abstract class ReceiveCmdletBase<T> : DxlSessionCmdletBase where T : notnull
{
    /// <summary>How long unsubscribing may take on the way out; the subscriptions end with the session at the latest.</summary>
    private static readonly TimeSpan UnsubscribeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long one subscription may take (a reconnect included); -TimeoutSec is the listening time here.</summary>
    private static readonly TimeSpan SubscribeTimeout = TimeSpan.FromSeconds(120);

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    private protected int Limit => MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : int.MaxValue;

    /// <summary>Callback for the subscriptions: safe from any thread.</summary>
    private protected Task Enqueue(T item)
    {
        Channel.Post(new PipelineMessage.Output(item));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Makes every subscription (a failure stops the command, named by its target), streams until done, and
    /// returns how many items were written.
    /// </summary>
    private protected int Receive(DxlSession session, IEnumerable<(object Target, string Label, Func<CancellationToken, Task<IAsyncDisposable>> Subscribe)> subscriptions)
    {
        // Without -TimeoutSec it listens until -Count or Ctrl+C.
        DateTime? deadline = HasTimeout ? DateTime.UtcNow.AddSeconds(TimeoutSec) : null;
        var active = new List<IAsyncDisposable>();
        using var log = session.AttachLog(PostLog);
        // The client re-subscribes by itself after a reconnect; what was published while it was away is gone.
        EventHandler<Dxl.Client.DxlOutage> onReconnected = (_, outage) => Channel.Post(new PipelineMessage.Warning(string.Format(
            System.Globalization.CultureInfo.InvariantCulture,
            "The connection to the DXL fabric was down from {0:HH:mm:ss} to {1:HH:mm:ss} UTC ({2:0.#} s; {3}): events published in that window were not received. Subscriptions are restored and receiving goes on.",
            outage.DisconnectedAt.UtcDateTime, outage.ReconnectedAt.UtcDateTime, outage.Duration.TotalSeconds, outage.Reason)));
        session.Client.Reconnected += onReconnected;
        try
        {
            foreach (var (target, label, subscribe) in subscriptions)
            {
                active.Add(Run(subscribe, target, SubscribeTimeout));
                WriteVerbose($"Subscribed to {label}.");
            }
            var limit = Limit;
            var written = 0;
            while (true)
            {
                written += Pump(limit - written);
                if (written >= limit || (deadline is { } d && DateTime.UtcNow >= d)) return written;
                WaitForMessages(deadline);
            }
        }
        finally
        {
            session.Client.Reconnected -= onReconnected;
            WaitBounded(Task.WhenAll(active.Select(s => s.DisposeAsync().AsTask())), UnsubscribeTimeout);
        }
    }
}
