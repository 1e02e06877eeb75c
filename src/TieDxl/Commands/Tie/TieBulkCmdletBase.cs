using System.Diagnostics;
using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>The outcome of one pipeline item: what to write, in input order, once it is done.</summary>
internal sealed class ItemOutcome
{
    public object? Output { get; init; }
    public ErrorRecord? Error { get; init; }
    public List<string>? Warnings { get; init; }
    public string? Verbose { get; init; }
}

/// <summary>
/// Base of the TIE cmdlets that work on many items: requests run concurrently (<see cref="ThrottleLimit"/>),
/// results stream out in input order as soon as the head of the queue is done, memory stays bounded, progress
/// is shown on long runs, one failed item is one non-terminating error, and Ctrl+C stops at once.
/// </summary>
public abstract class TieBulkCmdletBase : TieDxlCmdletBase
{
    /// <summary>Enough to reach the broker's throughput on loopback and to hide a remote server's round trip.</summary>
    public const int DefaultThrottleLimit = 64;

    private OrderedWorkQueue<ItemOutcome>? _queue;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _nextProgress = TimeSpan.FromSeconds(1);
    private long _done;
    private long _failed;
    private IDisposable? _logAttachment;

    /// <summary>How many requests run at once.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

    /// <summary>Seconds to wait for each answer from TIE.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    [Parameter]
    [DxlSessionTransformation]
    [ArgumentCompleter(typeof(DxlSessionNameCompleter))]
    public DxlSession? Session { get; set; }

    private protected DxlSession ActiveSession { get; private set; } = null!;
    private protected TieClient Tie { get; private set; } = null!;
    private protected TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSec);

    /// <summary>The activity shown in the progress bar.</summary>
    private protected abstract string ProgressActivity { get; }

    protected override void BeginProcessing()
    {
        ActiveSession = ResolveSession(Session);
        Tie = new TieClient(ActiveSession.Client) { DefaultTimeout = Timeout };
        _queue = new OrderedWorkQueue<ItemOutcome>(ThrottleLimit, CancellationToken);
        _logAttachment = ActiveSession.AttachLog(PostLog);
        _reconnectsAtStart = ActiveSession.ReconnectCount;
    }

    private int _reconnectsAtStart;

    /// <summary>
    /// Queues one item's work; an exception it throws becomes that item's error record, plus the output
    /// <paramref name="failureOutput"/> makes for it (the Set cmdlets' Failed result under -PassThru).
    /// </summary>
    private protected void Enqueue(object target, Func<CancellationToken, Task<ItemOutcome>> work, Func<Exception, object?>? failureOutput = null)
    {
        _queue!.Enqueue(async ct =>
        {
            try
            {
                return await work(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                return new ItemOutcome { Error = TieErrors.FromException(e, target), Output = failureOutput?.Invoke(e) };
            }
        });
        WriteReady(_queue.TakeReady());
    }

    /// <summary>Writes an item that needs no request (for example a bad hash) in its place in the order.</summary>
    private protected void EnqueueOutcome(ItemOutcome outcome) => Enqueue(outcome, _ => Task.FromResult(outcome));

    protected override void EndProcessing()
    {
        if (_queue is null) return;
        WriteReady(_queue.TakeAll());
        if (_done >= 100)
            WriteProgress(new ProgressRecord(1, ProgressActivity, "Done") { RecordType = ProgressRecordType.Completed });
        var latency = _queue.Latency;
        WriteVerbose(string.Format(System.Globalization.CultureInfo.InvariantCulture,
            "{0}: {1} item(s), {2} failed, in {3:0.###} s ({4:0} per second); latency p50 {5:0.###} ms, p99 {6:0.###} ms, throttle {7}.",
            ProgressActivity, _done, _failed, _clock.Elapsed.TotalSeconds, _done / Math.Max(0.001, _clock.Elapsed.TotalSeconds),
            latency.Percentile(0.50).TotalMilliseconds, latency.Percentile(0.99).TotalMilliseconds, ThrottleLimit));
        var reconnects = ActiveSession.ReconnectCount - _reconnectsAtStart;
        if (reconnects > 0 && ActiveSession.LastOutage is { } outage)
            WriteVerbose(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "{0}: the run waited for the DXL fabric {1} time(s); the last outage was from {2:HH:mm:ss} to {3:HH:mm:ss} UTC ({4:0.#} s; {5}), now on {6}.",
                ProgressActivity, reconnects, outage.DisconnectedAt.UtcDateTime, outage.ReconnectedAt.UtcDateTime, outage.Duration.TotalSeconds,
                outage.Reason, outage.ReconnectedBroker));
    }

    private void WriteReady(IEnumerable<ItemOutcome> outcomes)
    {
        try
        {
            foreach (var outcome in outcomes)
            {
                DrainPosted();
                _done++;
                if (outcome.Warnings is { } warnings)
                    foreach (var warning in warnings) WriteWarning(warning);
                if (outcome.Verbose is { } verbose) WriteVerbose(verbose);
                if (outcome.Error is { } error)
                {
                    _failed++;
                    WriteError(error);
                }
                if (outcome.Output is { } output) WriteObject(output, enumerateCollection: output is Array);
                ReportProgress();
            }
            DrainPosted();
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    private void ReportProgress()
    {
        if (_clock.Elapsed < _nextProgress) return;
        _nextProgress = _clock.Elapsed + TimeSpan.FromMilliseconds(500);
        var rate = _done / Math.Max(0.001, _clock.Elapsed.TotalSeconds);
        WriteProgress(new ProgressRecord(1, ProgressActivity,
            $"{_done} done, {_failed} failed, {_queue!.Count} in progress ({rate:0}/s)"));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _logAttachment?.Dispose();
            _queue?.Dispose();
        }
        base.Dispose(disposing);
    }
}
