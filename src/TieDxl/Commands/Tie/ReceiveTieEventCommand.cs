using System.Collections.Concurrent;
using System.Management.Automation;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

public enum TieEventType
{
    FileReputationChange,
    CertificateReputationChange,
    Detection,
    FirstInstance,
    Prevalence,
}

/// <summary>
/// Receive-TieEvent: streams TIE events (reputation changes, detections, first instances, prevalence) as typed
/// objects until -Count events arrived, -TimeoutSec passed, or Ctrl+C. Events arrive on other threads and are
/// written on the pipeline thread.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "TieEvent")]
[OutputType(typeof(FileReputationChangeEvent), typeof(CertificateReputationChangeEvent), typeof(FileDetectionEvent),
    typeof(FileFirstInstanceEvent), typeof(FilePrevalenceEvent))]
public sealed class ReceiveTieEventCommand : TieDxlCmdletBase
{
    private readonly ConcurrentQueue<TieEvent> _received = new();

    /// <summary>Which events; all of them by default.</summary>
    [Parameter(Position = 0)]
    public TieEventType[] Type { get; set; } = Enum.GetValues<TieEventType>();

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
        var tie = new TieClient(session.Client);
        tie.EventError += (_, e) => Post(() => WriteWarning($"Ignored a malformed TIE event on '{e.Topic}': {e.Error.Message}"));
        var limit = MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : int.MaxValue;
        DateTime? deadline = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? DateTime.UtcNow.AddSeconds(TimeoutSec) : null;

        var subscriptions = new List<IAsyncDisposable>();
        using var log = session.AttachLog(PostLog);
        var written = 0;
        try
        {
            foreach (var type in Type.Distinct())
            {
                try
                {
                    subscriptions.Add(RunSync(ct => Subscribe(tie, type, ct), TimeSpan.FromSeconds(120)));
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    ThrowDxlError(ex, type);
                }
                WriteVerbose($"Subscribed to {type} events.");
            }

            written = StreamQueued(_received, limit, deadline);
        }
        finally
        {
            try { Task.WhenAll(subscriptions.Select(s => s.DisposeAsync().AsTask())).Wait(TimeSpan.FromSeconds(5)); }
            catch (Exception) { /* best effort: the subscriptions end with the session at the latest */ }
        }
        WriteVerbose($"Received {written} TIE event(s).");
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

    private Task Enqueue(TieEvent received)
    {
        _received.Enqueue(received);
        Wake();
        return Task.CompletedTask;
    }
}
