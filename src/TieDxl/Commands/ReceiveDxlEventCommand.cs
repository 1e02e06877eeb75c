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
public sealed class ReceiveDxlEventCommand : ReceiveCmdletBase<DxlEventMessage>
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] Topic { get; set; } = Array.Empty<string>();

    protected override void EndProcessing()
    {
        var session = CurrentSession;
        var written = Receive(session, Topic.Distinct(StringComparer.Ordinal).Select(topic =>
            ((object)topic, $"'{topic}'", (Func<CancellationToken, Task<IAsyncDisposable>>)(ct =>
                session.Client.SubscribeAsync(topic, e => Enqueue(new DxlEventMessage(e, DateTimeOffset.Now, topic)), ct)))));
        WriteVerbose(written >= Limit
            ? $"Received {written} event(s)."
            : $"Stopped after {TimeoutSec} s with {written} event(s){(Limit == int.MaxValue ? "" : $" of {Limit}")}.");
    }
}
