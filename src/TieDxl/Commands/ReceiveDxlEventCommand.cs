using System.Collections.Concurrent;
using System.Management.Automation;
using TieDxl.Dxl.Messages;

namespace TieDxl.Commands;

/// <summary>
/// Receive-DxlEvent: subscribes to topics and streams the events as they arrive, until -Count events were
/// written, -TimeoutSec passed, or the pipeline is stopped (Ctrl+C, Select-Object -First). Events arrive on
/// other threads; they are queued and written on the pipeline thread only.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "DxlEvent")]
[OutputType(typeof(DxlEventMessage))]
public sealed class ReceiveDxlEventCommand : TieDxlCmdletBase
{
    private readonly ConcurrentQueue<DxlEventMessage> _received = new();

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] Topic { get; set; } = Array.Empty<string>();

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

    protected override void EndProcessing()
    {
        var session = ResolveSession(Session);
        var limit = MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : int.MaxValue;
        var deadline = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec))
            ? DateTime.UtcNow.AddSeconds(TimeoutSec)
            : (DateTime?)null;

        var subscriptions = new List<IAsyncDisposable>();
        using var log = session.AttachLog(PostLog);
        var written = 0;
        try
        {
            foreach (var topic in Topic.Distinct(StringComparer.Ordinal))
            {
                var subscription = topic;
                try
                {
                    subscriptions.Add(RunSync(ct => session.Client.SubscribeAsync(subscription, e => OnEvent(e, subscription), ct),
                        TimeSpan.FromSeconds(120)));
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    ThrowDxlError(ex, topic);
                }
                WriteVerbose($"Subscribed to '{topic}'.");
            }

            written = StreamQueued(_received, limit, deadline);
        }
        finally
        {
            Unsubscribe(subscriptions);
        }
        WriteVerbose(written >= limit
            ? $"Received {written} event(s)."
            : $"Stopped after {TimeoutSec} s with {written} event(s){(limit == int.MaxValue ? "" : $" of {limit}")}.");
    }

    private Task OnEvent(DxlEvent e, string subscription)
    {
        _received.Enqueue(new DxlEventMessage(e, DateTimeOffset.Now, subscription));
        Wake();
        return Task.CompletedTask;
    }

    private static void Unsubscribe(List<IAsyncDisposable> subscriptions)
    {
        if (subscriptions.Count == 0) return;
        try
        {
            Task.WhenAll(subscriptions.Select(s => s.DisposeAsync().AsTask())).Wait(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Unsubscribing is best effort: the subscription ends with the session at the latest.
        }
    }
}
