using System.Management.Automation;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Receive-TieEvent: streams TIE events (reputation changes, detections, first instances, prevalence) as typed
/// objects until -Count events arrived, -TimeoutSec passed, or Ctrl+C. Events arrive on other threads and are
/// written on the pipeline thread.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "TieEvent")]
[OutputType(typeof(FileReputationChangeEvent), typeof(CertificateReputationChangeEvent), typeof(FileDetectionEvent),
    typeof(FileFirstInstanceEvent), typeof(FilePrevalenceEvent))]
public sealed class ReceiveTieEventCommand : ReceiveCmdletBase<TieEvent>
{
    /// <summary>Which events; all of them by default.</summary>
    [Parameter(Position = 0)]
    public TieEventType[] Type { get; set; } = Enum.GetValues<TieEventType>();

    protected override void EndProcessing()
    {
        var session = CurrentSession;
        var tie = session.Tie;
        // The session's TIE client outlives this command: its warnings come here only while the command runs.
        EventHandler<TieEventErrorEventArgs> onEventError = (_, e) =>
            Channel.Post(new Pipeline.PipelineMessage.Warning($"Ignored a malformed TIE event on '{e.Topic}': {e.Error.Message}"));
        tie.EventError += onEventError;
        try
        {
            var written = Receive(session, Type.Distinct().Select(type =>
                ((object)type, $"{type} events", (Func<CancellationToken, Task<IAsyncDisposable>>)(ct => Subscribe(tie, type, ct)))));
            WriteVerbose($"Received {written} TIE event(s).");
        }
        finally
        {
            tie.EventError -= onEventError;
        }
    }

    private Task<IAsyncDisposable> Subscribe(TieClient tie, TieEventType type, CancellationToken ct) => type switch
    {
        TieEventType.FileReputationChange => tie.SubscribeFileReputationChangeAsync(Enqueue, cancellationToken: ct),
        TieEventType.CertificateReputationChange => tie.SubscribeCertificateReputationChangeAsync(Enqueue, cancellationToken: ct),
        TieEventType.Detection => tie.SubscribeFileDetectionAsync(Enqueue, ct),
        TieEventType.FirstInstance => tie.SubscribeFileFirstInstanceAsync(Enqueue, ct),
        TieEventType.Prevalence => tie.SubscribeFilePrevalenceAsync(Enqueue, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
