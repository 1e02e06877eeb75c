using System.Globalization;
using System.Management.Automation;
using TieDxl.Errors;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Get-TieReputationChange: the files and certificates whose reputation changed since a time, from TIE's change feed
/// (<c>/mcafee/service/tie/reputation/updates</c>). Pages on its own; each subject once per run. With -StatePath it
/// remembers where it stopped, after each page's objects were written, so a scheduled job sees each change once.
/// </summary>
[Cmdlet(VerbsCommon.Get, "TieReputationChange")]
[OutputType(typeof(TieReputationChange))]
public sealed class GetTieReputationChangeCommand : DxlSessionCmdletBase
{
    private const string Activity = "Get-TieReputationChange";

    /// <summary>Without -Since and without a state file to resume from: the last day.</summary>
    private static readonly TimeSpan DefaultLookBack = TimeSpan.FromDays(1);

    private int? _queryLimit;

    /// <summary>A DateTime or DateTimeOffset, or a TIE server time in epoch seconds (a number, or text of either).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNull]
    public object? Since { get; set; }

    /// <summary>Changes per page (1-5000); the server's page size when not given.</summary>
    [Parameter]
    [ValidateRange(1, 5000)]
    public int QueryLimit
    {
        get => _queryLimit ?? 0;
        set => _queryLimit = value;
    }

    /// <summary>Only subjects this client looked up before, or that are prevalent.</summary>
    [Parameter]
    public SwitchParameter Targeted { get; set; }

    /// <summary>Files only (with -Certificate: both, as without either).</summary>
    [Parameter]
    public SwitchParameter File { get; set; }

    /// <summary>Certificates only (with -File: both, as without either).</summary>
    [Parameter]
    public SwitchParameter Certificate { get; set; }

    /// <summary>The hash TIE lists per file: Md5, Sha1 or Sha256 (when the file has it).</summary>
    [Parameter]
    public HashType? FileHashType { get; set; }

    /// <summary>The hash TIE lists per certificate: Sha1, the only one.</summary>
    [Parameter]
    public HashType? CertificateHashType { get; set; }

    /// <summary>A state file of ours: where the last run stopped; created on the first run, updated after every page.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    protected override void EndProcessing()
    {
        var request = BuildRequest();
        var statePath = StatePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(StatePath);
        var start = StartPosition(statePath);
        var session = CurrentSession;
        var feed = session.Tie.ReadReputationChanges(request, start, Timeout);
        WriteVerbose($"Reading the changes since {Describe(start)}.");
        while (Run(ct => feed.NextPageAsync(ct), TieTopics.ReputationUpdates, logFrom: session) is { } page)
        {
            foreach (var subject in page.Changes) WriteObject(new TieReputationChange(subject, page));
            // Only now: the objects of this page reached the pipeline, so a run stopped later starts after them.
            if (statePath is not null) SaveState(statePath, feed.Position);
            WriteProgress(new ProgressRecord(1, Activity,
                $"Page {page.Number}: {feed.Changes} changes so far{(page.LatestUpdateTime is { } t ? $", up to {DateTimeOffset.FromUnixTimeSeconds(t):u}" : "")}"));
        }
        WriteProgress(new ProgressRecord(1, Activity, "Done") { RecordType = ProgressRecordType.Completed });
        if (feed.SkippedSeconds > 0)
            WriteWarning($"{feed.SkippedSeconds} second(s) held more than {TieConstants.MaxQueryLimit} changes, more than one page can list: the rest of those seconds was skipped.");
        WriteVerbose($"{feed.Pages} page(s), {feed.Changes} change(s), {feed.Duplicates} repeated subject(s) dropped; the next run starts at {Describe(feed.Position)}.");
    }

    private TieReputationUpdatesRequest BuildRequest()
    {
        var request = new TieReputationUpdatesRequest
        {
            QueryLimit = _queryLimit,
            Targeted = Targeted.IsPresent ? true : null,
            IncludeFiles = File || !Certificate,
            IncludeCertificates = Certificate || !File,
            FileHashType = FileHashType,
            CertificateHashType = CertificateHashType,
        };
        try
        {
            request.Validate();
        }
        catch (ArgumentException ex)
        {
            ThrowError(ErrorCatalog.TieInvalidArgument, ErrorCategory.InvalidArgument, ex.ParamName, ex.Message, ex);
        }
        return request;
    }

    /// <summary>Where this run starts: the state file's position when there is one, else -Since, else a day ago.</summary>
    private TieFeedPosition StartPosition(string? statePath)
    {
        if (statePath is not null)
        {
            TieFeedPosition? stored = null;
            try
            {
                stored = TieFeedStateFile.Read(statePath);
            }
            catch (TieFeedStateException ex)
            {
                ThrowError(ErrorCatalog.ChangeStateFileInvalid, ErrorCategory.InvalidData, statePath, ex.Message, ex);
            }
            if (stored is not null)
            {
                if (Since is not null) WriteVerbose($"-Since is not used: the state file '{statePath}' tells where the last run stopped.");
                return stored;
            }
        }
        return Since is null
            ? TieFeedPosition.At(DateTimeOffset.UtcNow - DefaultLookBack)
            : new TieFeedPosition(ServerTimeOf(Since));
    }

    private void SaveState(string path, TieFeedPosition position)
    {
        try
        {
            TieFeedStateFile.Write(path, position, DateTimeOffset.UtcNow);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowError(ErrorCatalog.ChangeStateFileUnwritable, ErrorCategory.WriteError, path,
                $"Cannot write the state file '{path}': {ex.Message} The changes written so far will be listed again by the next run.", ex);
        }
    }

    /// <summary>-Since as TIE server time (epoch seconds): a date (unspecified kind = local, as Get-Date gives), a number, or text of either.</summary>
    private long ServerTimeOf(object since)
    {
        var value = since is PSObject ps ? ps.BaseObject : since;
        long? seconds = value switch
        {
            DateTimeOffset d => d.ToUnixTimeSeconds(),
            DateTime d => new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Local) : d).ToUnixTimeSeconds(),
            int or long or short or uint or ushort or byte => Convert.ToInt64(value, CultureInfo.InvariantCulture),
            double d when d == Math.Floor(d) && d is >= 0 and <= long.MaxValue => (long)d,
            string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            string s when DateTimeOffset.TryParse(s, CultureInfo.CurrentCulture, DateTimeStyles.AssumeLocal, out var d) => d.ToUnixTimeSeconds(),
            _ => null,
        };
        if (seconds is not { } result || result < 0)
            ThrowError(ErrorCatalog.TieInvalidArgument, ErrorCategory.InvalidArgument, since,
                $"-Since '{since}' is neither a date nor a TIE server time (epoch seconds, 0 or more).");
        return seconds!.Value;
    }

    private static string Describe(TieFeedPosition position) =>
        $"{position.Since:u} (server time {position.SinceTime}{(position.SeenAtSinceTime.Count > 0 ? $", {position.SeenAtSinceTime.Count} subject(s) of that second already seen" : "")})";
}
