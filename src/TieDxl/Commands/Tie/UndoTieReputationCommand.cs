using System.Management.Automation;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Undo-TieReputation: restores the trust levels a journal recorded before its changes (NotSet where there was none).
/// Only changes that were sent are undone (and those a stopped run left pending), newest first; the changes to one
/// reputation run one after the other. A reputation changed since is skipped with a warning unless -Force. The
/// undo writes its own journal with -JournalPath, so it can be undone in turn.
/// </summary>
[Cmdlet(VerbsCommon.Undo, "TieReputation", DefaultParameterSetName = TieJournalFiles.PathSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TieSetReputationResult))]
public sealed class UndoTieReputationCommand : TieBulkCmdletBase
{
    private const string InputObjectSet = "InputObject";
    private readonly List<TieJournalEntry> _entries = new();

    /// <summary>Journals to undo; wildcards allowed.</summary>
    [Parameter(ParameterSetName = TieJournalFiles.PathSet, Mandatory = true, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Journals to undo, taken literally.</summary>
    [Parameter(ParameterSetName = TieJournalFiles.LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Journal entries (Import-TieJournal output).</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public TieJournalEntry[] InputObject { get; set; } = Array.Empty<TieJournalEntry>();

    /// <summary>Restore even a reputation that was changed since the journalled change.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Append one JSON line per restored item to this journal, so the undo can be undone.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    /// <summary>Write a result per journalled change: Sent, Skipped, Unchanged or Failed, with the reason.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override string ProgressActivity => "Undo-TieReputation";

    private protected override string? JournalPathParameter => JournalPath;

    /// <summary>"Changed since?" must be what TIE holds now, never a cached answer (the rate still applies).</summary>
    private protected override (TimeSpan? MaxAge, bool NoCache) CacheChoice => (null, true);

    protected override void ProcessRecord()
    {
        // Collected first: the newest change of each reputation is undone first, wherever it is in the input.
        if (ParameterSetName == InputObjectSet)
            _entries.AddRange(InputObject.Where(e => e is not null));
        else
            _entries.AddRange(TieJournalFiles.Read(this, ParameterSetName == TieJournalFiles.LiteralPathSet ? LiteralPath : Path,
                ParameterSetName == TieJournalFiles.LiteralPathSet));
    }

    protected override void EndProcessing()
    {
        foreach (var group in TieJournal.PlanUndo(_entries))
        {
            var accepted = group.Where(entry => ShouldProcess(entry.ToString(),
                $"Restore the {entry.Provider} reputation to {entry.TrustLevelBefore?.ToString() ?? "(unknown)"} (the journal set {entry.TrustLevelRequested} at {entry.Time.UtcDateTime:u})")).ToArray();
            if (accepted.Length > 0) EnqueueGroup(accepted);
        }
        base.EndProcessing();
    }

    /// <summary>Queues the undo of the changes to one reputation, one after the other, newest first.</summary>
    private void EnqueueGroup(IReadOnlyList<TieJournalEntry> group)
    {
        var tie = Tie;
        var template = new TieRestoreRequest(group[0])
        {
            Force = Force, Journal = Journal, Timeout = Timeout,
            Lookup = ChangeLookupOptions,
        };
        var passThru = PassThru.IsPresent;
        Enqueue(group[0], group[0], async ct =>
        {
            var messages = new List<PipelineMessage>(group.Count);
            foreach (var entry in group)
            {
                var outcome = TieJournalParameter.WithForceHint(await tie.RestoreReputationAsync(template with { Entry = entry }, ct).ConfigureAwait(false));
                var itemName = entry.ToString();
                messages.Add(SetOutcomeMessages(outcome, entry, itemName,
                    TieJournalParameter.DoneVerbose(outcome, itemName, $"{entry.Provider} reputation of {itemName} restored to {entry.TrustLevelBefore}."),
                    passThru ? o => Result(entry, o) : null));
            }
            return PipelineMessage.Of(messages.ToArray());
        }, e => passThru ? PassThruOutput(TieSetOutcome.Failed(e), o => Result(group[0], o)) : null);
    }

    private static TieSetReputationResult Result(TieJournalEntry entry, TieSetOutcome outcome) => new(
        entry.ProviderId == (int)FileProvider.External ? TieReputationProvider.External : TieReputationProvider.Enterprise,
        entry.Subject == TieJournalSubject.Certificate ? TieHashes.Create(sha1: entry.Sha1) : entry.Hashes,
        entry.Name, null, entry.TrustLevelBefore ?? TrustLevel.NotSet, outcome);
}
