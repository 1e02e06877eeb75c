using System.Runtime.CompilerServices;
using System.Text.Json;
using TieDxl.Dxl.Provisioning;

namespace TieDxl.Tie;

/// <summary>
/// Where a change feed stands: the TIE server time the next request asks from (inclusive), and the subjects already
/// delivered that may have changed in that very second. The feed answers with one hash per subject and no time per
/// subject, so a resumed feed sees those subjects again and drops them instead of skipping the second, which would
/// lose changes made later in it.
/// </summary>
public sealed record TieFeedPosition(long SinceTime, IReadOnlySet<string> SeenAtSinceTime)
{
    /// <summary>A start at <paramref name="sinceTime"/> with nothing seen yet.</summary>
    public TieFeedPosition(long sinceTime) : this(sinceTime, new HashSet<string>(StringComparer.Ordinal)) { }

    public static TieFeedPosition At(DateTimeOffset time) => new(Math.Max(0, time.ToUnixTimeSeconds()));

    public DateTimeOffset Since => DateTimeOffset.FromUnixTimeSeconds(SinceTime);
}

/// <summary>One page of a <see cref="TieReputationFeed"/>: the changes not delivered before, and what the server said.</summary>
public sealed record TieReputationChangePage(
    int Number,
    long SinceTime,
    IReadOnlyList<TieChangedSubject> Changes,
    int Duplicates,
    long? LatestUpdateTime,
    long? ServerTime,
    bool QueryLimitExceeded);

/// <summary>
/// Pages through the change feed from a <see cref="TieFeedPosition"/>, asking again with <c>sinceTime</c> =
/// <c>latestUpdateTime</c> while the server says more changes wait, and delivering each subject once per run.
/// Made by <see cref="TieClient.ReadReputationChanges"/>; one caller at a time.
/// <para>Bounded: every page either moves <c>sinceTime</c> forward or, when a whole page shares one second and more
/// wait, doubles the page size up to 5000; past that the second cannot be paged through and is skipped
/// (<see cref="SkippedSeconds"/>). A page that says "more" but lists nothing, or a time before the one asked for,
/// is a malformed reply.</para>
/// </summary>
public sealed class TieReputationFeed
{
    /// <summary>Page size assumed for the server default when a whole page shares one second (its documented fallback).</summary>
    private const int ServerDefaultQueryLimit = 100;

    private readonly TieClient _client;
    private readonly TieReputationUpdatesRequest _request;
    private readonly TimeSpan? _timeout;
    private readonly HashSet<string> _delivered = new(StringComparer.Ordinal);
    private int? _queryLimit;
    private long? _serverTimeBeforePage;
    private bool _done;

    internal TieReputationFeed(TieClient client, TieReputationUpdatesRequest request, TieFeedPosition start, TimeSpan? timeout)
    {
        _client = client;
        _request = request;
        _queryLimit = request.QueryLimit;
        _timeout = timeout;
        Position = start;
    }

    /// <summary>Where the next request (or the next run, once the feed is done) starts.</summary>
    public TieFeedPosition Position { get; private set; }

    public int Pages { get; private set; }
    public int Changes { get; private set; }

    /// <summary>Subjects listed again (page boundaries, or the second where an earlier run stopped) and dropped.</summary>
    public int Duplicates { get; private set; }

    /// <summary>Seconds holding more than 5000 changes, which no page size reaches past: skipped, their rest unread.</summary>
    public int SkippedSeconds { get; private set; }

    /// <summary>True once the server listed everything it had.</summary>
    public bool IsComplete => _done;

    /// <summary>The pages, until the server has nothing more.</summary>
    public async IAsyncEnumerable<TieReputationChangePage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await NextPageAsync(cancellationToken).ConfigureAwait(false) is { } page) yield return page;
    }

    /// <summary>The next page, or null when the feed is done. <see cref="Position"/> moves past the page on return.</summary>
    public async Task<TieReputationChangePage?> NextPageAsync(CancellationToken cancellationToken = default)
    {
        if (_done) return null;
        var since = Position.SinceTime;
        var reply = await AskAsync(since, cancellationToken).ConfigureAwait(false);
        CheckReply(reply, since);
        var (fresh, duplicates) = await SortOutAsync(reply, since, cancellationToken).ConfigureAwait(false);
        Pages++;
        Changes += fresh.Count;
        Duplicates += duplicates;
        var page = new TieReputationChangePage(Pages, since, fresh, duplicates, reply.LatestUpdateTime, reply.ServerTime, reply.QueryLimitExceeded);
        Advance(reply, since);
        return page;
    }

    private Task<TieReputationUpdatesReply> AskAsync(long since, CancellationToken cancellationToken) =>
        _client.GetReputationUpdatesAsync(_request with { SinceTime = since, QueryLimit = _queryLimit }, _timeout, cancellationToken);

    private static void CheckReply(TieReputationUpdatesReply reply, long since)
    {
        if (reply.QueryLimitExceeded && reply.Count == 0)
            throw Malformed("the server says more changes wait but lists none.");
        if (reply.Count > 0 && reply.LatestUpdateTime < since)
            throw Malformed($"latestUpdateTime {reply.LatestUpdateTime} is before the sinceTime {since} asked for.");
    }

    private static TieMalformedResponseException Malformed(string problem) => new(TieTopics.ReputationUpdates, problem, null);

    /// <summary>
    /// The page's subjects not delivered before, and how many were. A subject delivered earlier in this run is a
    /// duplicate. One the start position carried (delivered by an earlier run, its change at or before the second
    /// asked from) is a duplicate when the whole page lies in that second; otherwise it may have changed again since,
    /// which one more request from the next second tells: it is new only when listed there.
    /// </summary>
    private async Task<(List<TieChangedSubject> Fresh, int Duplicates)> SortOutAsync(TieReputationUpdatesReply reply, long since,
        CancellationToken cancellationToken)
    {
        var fresh = new List<TieChangedSubject>(reply.Count);
        var duplicates = 0;
        HashSet<string>? changedLater = null;
        foreach (var subject in reply.All)
        {
            var key = subject.Key;
            var repeated = _delivered.Contains(key);
            if (!repeated && Position.SeenAtSinceTime.Contains(key))
            {
                if (reply.LatestUpdateTime == since) repeated = true;
                else repeated = !(changedLater ??= await KeysListedFromAsync(since + 1, cancellationToken).ConfigureAwait(false)).Contains(key);
            }
            if (repeated)
            {
                duplicates++;
                continue;
            }
            _delivered.Add(key);
            fresh.Add(subject);
        }
        return (fresh, duplicates);
    }

    private async Task<HashSet<string>> KeysListedFromAsync(long since, CancellationToken cancellationToken)
    {
        var reply = await AskAsync(since, cancellationToken).ConfigureAwait(false);
        return reply.All.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Moves <see cref="Position"/> past a page and decides whether another page follows.</summary>
    private void Advance(TieReputationUpdatesReply reply, long since)
    {
        var serverTimeBefore = _serverTimeBeforePage;
        if (reply.ServerTime is { } serverTime) _serverTimeBeforePage = Math.Max(serverTime, serverTimeBefore ?? serverTime);
        if (reply.Count == 0)
        {
            _done = true;
            return;
        }
        var latest = reply.LatestUpdateTime!.Value;
        // Delivered in this run, now or before; not the subjects an earlier run delivered, dropped just now.
        var listed = reply.All.Select(s => s.Key).Where(_delivered.Contains);
        if (!reply.QueryLimitExceeded)
        {
            _done = true;
            // The server answered after a server time already past the latest change: that second is complete and
            // nothing later existed, so the next run starts after it with nothing to drop.
            Position = serverTimeBefore > latest
                ? new TieFeedPosition(latest + 1)
                : AtSecond(latest, since, listed);
            return;
        }
        if (latest > since)
        {
            Position = AtSecond(latest, since, listed);
            return;
        }
        StuckInOneSecond(since, listed);
    }

    /// <summary>The position at <paramref name="latest"/>: the subjects listed now, plus those already known in that second.</summary>
    private TieFeedPosition AtSecond(long latest, long since, IEnumerable<string> listed)
    {
        var seen = new HashSet<string>(listed, StringComparer.Ordinal);
        if (latest == since) seen.UnionWith(Position.SeenAtSinceTime);
        return new TieFeedPosition(latest, seen);
    }

    /// <summary>A whole page in one second with more waiting: a larger page, else the second is skipped.</summary>
    private void StuckInOneSecond(long since, IEnumerable<string> listed)
    {
        var current = _queryLimit ?? ServerDefaultQueryLimit;
        if (current < TieConstants.MaxQueryLimit)
        {
            _queryLimit = Math.Min(TieConstants.MaxQueryLimit, current * 2);
            Position = AtSecond(since, since, listed);
            return;
        }
        SkippedSeconds++;
        Position = new TieFeedPosition(since + 1);
    }
}

/// <summary>A state file that is not ours, or is broken. The file is left as it is.</summary>
public sealed class TieFeedStateException : Exception
{
    public TieFeedStateException(string path, string problem, Exception? inner = null)
        : base($"'{path}' is not a usable reputation change state file: {problem} It was left as it is; give another -StatePath, or delete it to start over.", inner)
    {
        Path = path;
        Problem = problem;
    }

    public string Path { get; }
    public string Problem { get; }
}

/// <summary>
/// The state file of a scheduled change feed: a small JSON file of ours, <c>{"format":"TieDxl.ReputationChangeState",
/// "version":1,"sinceTime":n,"seenAtSinceTime":["file:sha1:…"],"savedAt":"…"}</c>, written atomically.
/// </summary>
public static class TieFeedStateFile
{
    public const string Format = "TieDxl.ReputationChangeState";
    public const int Version = 1;

    /// <summary>The position stored at <paramref name="path"/>, or null when there is no file.</summary>
    /// <exception cref="TieFeedStateException">The file is not ours, is of a later version, or is broken.</exception>
    public static TieFeedPosition? Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new TieFeedStateException(path, "it is a directory.");
        if (!File.Exists(path)) return null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TieFeedStateException(path, $"it cannot be read ({ex.Message}).", ex);
        }
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            return FromJson(path, doc.RootElement);
        }
        catch (JsonException ex)
        {
            throw new TieFeedStateException(path, $"it is not JSON ({ex.Message}).", ex);
        }
    }

    private static TieFeedPosition FromJson(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String
            || format.GetString() != Format)
            throw new TieFeedStateException(path, $"it has no \"format\": \"{Format}\" marker, so it was not written by Get-TieReputationChange.");
        if (!root.TryGetProperty("version", out var version) || !version.TryGetInt32(out var v) || v < 1)
            throw new TieFeedStateException(path, "its \"version\" is missing or not a positive integer.");
        if (v > Version)
            throw new TieFeedStateException(path, $"it is of version {v}, written by a later TieDxl (this one reads version {Version}).");
        if (!root.TryGetProperty("sinceTime", out var since) || since.ValueKind != JsonValueKind.Number || !since.TryGetInt64(out var sinceTime) || sinceTime < 0)
            throw new TieFeedStateException(path, "its \"sinceTime\" is missing or not a TIE server time (epoch seconds, 0 or more).");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (root.TryGetProperty("seenAtSinceTime", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array) throw new TieFeedStateException(path, "its \"seenAtSinceTime\" is not an array.");
            foreach (var item in list.EnumerateArray())
            {
                var subject = item.ValueKind == JsonValueKind.String ? TieChangedSubject.FromKey(item.GetString()!) : null;
                if (subject is null) throw new TieFeedStateException(path, $"its \"seenAtSinceTime\" holds {item.GetRawText()}, which is not a subject.");
                seen.Add(subject.Key);
            }
        }
        return new TieFeedPosition(sinceTime, seen);
    }

    /// <summary>Writes <paramref name="position"/> to <paramref name="path"/> in one step (a temporary file renamed over it).</summary>
    public static void Write(string path, TieFeedPosition position, DateTimeOffset savedAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(position);
        var json = TiePayloads.Write((position, savedAt), 0, static (w, a, _) =>
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteNumber("sinceTime", a.position.SinceTime);
            w.WriteString("since", a.position.Since);
            w.WriteStartArray("seenAtSinceTime");
            foreach (var key in a.position.SeenAtSinceTime.Order(StringComparer.Ordinal)) w.WriteStringValue(key);
            w.WriteEndArray();
            w.WriteString("savedAt", a.savedAt);
            w.WriteEndObject();
        });
        AtomicFiles.WriteAll(new[] { new PlannedFile(path, json) });
    }
}
