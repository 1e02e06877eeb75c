using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using TieDxl.Dxl.Bulk;
using TieDxl.Errors;
using TieDxl.Pipeline;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Base of the TIE cmdlets that work on many items: requests run concurrently (<see cref="ThrottleLimit"/>),
/// results stream out in input order as soon as the head of the queue is done, memory stays bounded, progress
/// is shown on long runs, one failed item is one non-terminating error, and Ctrl+C stops at once.
/// Each item's work returns the messages to write for it (<see cref="PipelineMessage"/>), in its place in the order.
/// </summary>
public abstract class TieBulkCmdletBase : DxlSessionCmdletBase
{
    /// <summary>Enough to reach the broker's throughput on loopback and to hide a remote server's round trip.</summary>
    public const int DefaultThrottleLimit = 64;

    private OrderedWorkQueue<PipelineMessage>? _queue;
    // What to make of each queued item's failure, in the queue's order; kept on the pipeline thread, so the work
    // itself needs no wrapper of its own (one async state machine per item, not two).
    private readonly Queue<ItemContext> _items = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _nextProgress = TimeSpan.FromSeconds(1);
    private long _done;
    private long _failed;
    private IDisposable? _logAttachment;
    private int _reconnectsAtStart;

    /// <summary>How many requests run at once.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

    /// <summary>
    /// The cap on requests per second that reach TIE for this command (cache hits and shared answers take none);
    /// replaces the session's (Connect-DxlFabric -MaxRequestsPerSecond). Works with -ThrottleLimit, which bounds
    /// requests in flight.
    /// </summary>
    [Parameter]
    [ValidateRange(TieRequestRate.MinRequestsPerSecond, TieRequestRate.MaxRequestsPerSecond)]
    public double MaxRequestsPerSecond { get; set; }

    private TieRequestRate? _commandRate;

    /// <summary>
    /// This run's sharing scope: lookups of the run that name the same file or certificate share one request
    /// (<see cref="TieLookupRun"/>), and it counts what reached TIE for the closing -Verbose line.
    /// </summary>
    private protected TieLookupRun LookupRun { get; } = new();

    /// <summary>
    /// How this run's lookups may be answered, made once in BeginProcessing: the session's cache as
    /// <see cref="CacheChoice"/> says, the run's sharing, and the command's or the session's rate.
    /// </summary>
    private protected TieLookupOptions LookupOptions { get; private set; } = TieLookupOptions.Direct;

    /// <summary>
    /// The command's -MaxAge and -NoCache, for the cmdlets that declare them (those whose lookups the cache may
    /// answer; a first-reference query never is): the oldest cached answer accepted, and whether to skip the cache.
    /// </summary>
    private protected virtual (TimeSpan? MaxAge, bool NoCache) CacheChoice => (null, false);

    /// <summary>
    /// How the lookup before a change may be answered: as <see cref="LookupOptions"/>, but lookups do not share
    /// answers within the run; a run of changes shares whole outcomes instead (<see cref="RunOutcomes"/>), since a
    /// later copy must not decide on an answer from before the first copy's change.
    /// </summary>
    private protected TieLookupOptions ChangeLookupOptions { get; private set; } = TieLookupOptions.Direct;

    private TieRunSharing<TieReputationKey, TieSetOutcome>? _runOutcomes;

    /// <summary>
    /// The changes of this run by what they change: the first copy of a file or certificate does the change, later
    /// copies get its outcome, in flight or done (a feed that lists a file twice looks it up once and sends once).
    /// Made on first use, on the pipeline thread; bounded like the lookups' sharing.
    /// </summary>
    private protected TieRunSharing<TieReputationKey, TieSetOutcome> RunOutcomes => _runOutcomes ??= new();

    /// <summary>The -JournalPath of a cmdlet that changes reputations; null for the others and when not given.</summary>
    private protected virtual string? JournalPathParameter => null;

    /// <summary>The journal of -JournalPath, opened when the run begins and closed with the command; or null.</summary>
    private protected TieJournalWriter? Journal { get; private set; }

    /// <summary>The session's TIE client (one per session: see <see cref="DxlSession.Tie"/>).</summary>
    private protected TieClient Tie => CurrentSession.Tie;

    /// <summary>The activity shown in the progress bar.</summary>
    private protected abstract string ProgressActivity { get; }

    protected override void BeginProcessing()
    {
        var session = CurrentSession;
        _queue = new OrderedWorkQueue<PipelineMessage>(ThrottleLimit, CancellationToken);
        _logAttachment = session.AttachLog(PostLog);
        _reconnectsAtStart = session.ReconnectCount;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(MaxRequestsPerSecond))) _commandRate = new TieRequestRate(MaxRequestsPerSecond);
        var (maxAge, noCache) = CacheChoice;
        LookupOptions = new TieLookupOptions
        {
            UseCache = !noCache, MaxAge = maxAge, Run = LookupRun, Rate = _commandRate ?? session.Tie.DefaultRequestRate,
        };
        ChangeLookupOptions = new TieLookupOptions
        {
            UseCache = !noCache, MaxAge = maxAge, Run = LookupRun, ShareWithinRun = false, Rate = LookupOptions.Rate,
        };
        Journal = TieJournalParameter.Open(this, JournalPathParameter);
    }

    /// <summary>
    /// Queues one item's work. An exception it throws becomes that item's error record (named after
    /// <paramref name="item"/>, targeting <paramref name="target"/>), followed by what
    /// <paramref name="failureOutput"/> makes of it (the Set cmdlets' Failed result under -PassThru).
    /// The item is named only when it failed: nothing is formatted per item on the pipeline thread.
    /// </summary>
    private protected void Enqueue(object target, object item, Func<CancellationToken, Task<PipelineMessage>> work,
        Func<Exception, PipelineMessage?>? failureOutput = null)
    {
        _items.Enqueue(new ItemContext(target, item, failureOutput));
        _queue!.Enqueue(work);
        WriteFinished(untilEmpty: false);
    }

    private static string ItemName(object? item) => item is TieFileInput file ? file.Describe() : item?.ToString() ?? "(input)";

    /// <summary>Writes an item that needs no request (for example a bad hash) in its place in the order.</summary>
    private protected void EnqueueMessage(PipelineMessage message)
    {
        _items.Enqueue(default);
        _queue!.Enqueue(_ => Task.FromResult(message));
        WriteFinished(untilEmpty: false);
    }

    /// <summary>
    /// What a reputation change writes, once for every Set cmdlet: a warning when skipped, the error record when
    /// failed (named by <paramref name="itemName"/>, targeting the input), <paramref name="sentVerbose"/> when sent;
    /// then, under -PassThru, the result <paramref name="passThruResult"/> makes of the outcome.
    /// </summary>
    private protected static PipelineMessage SetOutcomeMessages(TieSetOutcome outcome, object target, string itemName, string sentVerbose,
        Func<TieSetOutcome, TieSetReputationResult>? passThruResult) =>
        PipelineMessage.Of(outcome.Status switch
        {
            TieSetReputationStatus.Skipped => new PipelineMessage.Warning($"Skipped {itemName}: {outcome.Reason}"),
            TieSetReputationStatus.Failed => new PipelineMessage.Error(ErrorCatalog.FromException(
                outcome.Error ?? new InvalidOperationException(outcome.Reason ?? "failed"), target, itemName)),
            _ => new PipelineMessage.Verbose(sentVerbose),
        }, PassThruOutput(outcome, passThruResult));

    /// <summary>The -PassThru output of a Set cmdlet for an item whose work threw (its error record comes first).</summary>
    private protected static PipelineMessage? PassThruOutput(TieSetOutcome outcome, Func<TieSetOutcome, TieSetReputationResult>? passThruResult) =>
        passThruResult is null ? null : new PipelineMessage.Output(passThruResult(outcome));

    protected override void EndProcessing()
    {
        if (_queue is null) return;
        WriteFinished(untilEmpty: true);
        if (_done >= 100)
            WriteProgress(new ProgressRecord(1, ProgressActivity, "Done") { RecordType = ProgressRecordType.Completed });
        var latency = _queue.Latency;
        WriteVerbose(string.Format(CultureInfo.InvariantCulture,
            "{0}: {1} item(s), {2} failed, in {3:0.###} s ({4:0} per second); latency p50 {5:0.###} ms, p99 {6:0.###} ms, throttle {7}{8}.",
            ProgressActivity, _done, _failed, _clock.Elapsed.TotalSeconds, _done / Math.Max(0.001, _clock.Elapsed.TotalSeconds),
            latency.Percentile(0.50).TotalMilliseconds, latency.Percentile(0.99).TotalMilliseconds, ThrottleLimit, RequestsSummary()));
        var reconnects = CurrentSession.ReconnectCount - _reconnectsAtStart;
        if (reconnects > 0 && CurrentSession.LastOutage is { } outage)
            WriteVerbose(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "{0}: the run waited for the DXL fabric {1} time(s); the last outage was from {2:HH:mm:ss} to {3:HH:mm:ss} UTC ({4:0.#} s; {5}), now on {6}.",
                ProgressActivity, reconnects, outage.DisconnectedAt.UtcDateTime, outage.ReconnectedAt.UtcDateTime, outage.Duration.TotalSeconds,
                outage.Reason, outage.ReconnectedBroker));
    }

    /// <summary>How many lookups of the run reached TIE, for the closing -Verbose line (empty when the command made none).</summary>
    private string RequestsSummary() =>
        LookupRun.Lookups == 0 ? "" : string.Format(CultureInfo.InvariantCulture,
            "; {0} request(s) reached TIE for {1} lookup(s) ({2} answered from the session cache, {3} shared within the run){4}",
            LookupRun.Requests, LookupRun.Lookups, LookupRun.CacheHits, LookupRun.Shared,
            _commandRate is { } rate ? $", at most {rate} ({rate.Waits} waited)" : "");

    /// <summary>
    /// Writes every finished item at the head of the queue; waits (writing posted messages meanwhile) for the oldest
    /// while the queue is over its bound, or, at the end, until it is empty.
    /// </summary>
    private void WriteFinished(bool untilEmpty)
    {
        var queue = _queue!;
        while (queue.Oldest is { } oldest)
        {
            if (!oldest.IsCompleted)
            {
                if (!untilEmpty && !queue.IsFull) break;
                WaitFor(oldest);
            }
            queue.TryTakeFinished(out var finished);
            var context = _items.Dequeue();
            PipelineMessage message;
            try
            {
                message = finished.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (Exception e)
            {
                message = context.Failed(e);
            }
            _done++;
            if (message.HasError) _failed++;
            Write(message);
            ReportProgress();
        }
        Pump();
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
            _commandRate?.Dispose();
            Journal?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>What an item's failure becomes: its error record, then what the command adds (the -PassThru result).</summary>
    private readonly record struct ItemContext(object? Target, object? Item, Func<Exception, PipelineMessage?>? FailureOutput)
    {
        public PipelineMessage Failed(Exception e) =>
            PipelineMessage.Of(new PipelineMessage.Error(ErrorCatalog.FromException(e, Target, ItemName(Item))), FailureOutput?.Invoke(e));
    }
}

/// <summary>A cache age between zero and one day (PowerShell's ValidateRange takes no TimeSpan).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class ValidateMaxAgeAttribute : ValidateArgumentsAttribute
{
    private static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        var age = arguments is PSObject wrapped ? wrapped.BaseObject : arguments;
        if (age is TimeSpan span && (span < TimeSpan.Zero || span > Longest))
            throw new ValidationMetadataException($"The age {span} is not between 0 and {Longest}.");
    }
}
