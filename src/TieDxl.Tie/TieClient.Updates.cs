namespace TieDxl.Tie;

public sealed partial class TieClient
{
    // ================================================================ the change feed

    /// <summary>
    /// One page of the change feed (<c>/mcafee/service/tie/reputation/updates</c>): the subjects whose reputation
    /// changed at or after <see cref="TieReputationUpdatesRequest.SinceTime"/>. Bad fields throw
    /// <see cref="ArgumentException"/> before anything is sent. <see cref="ReadReputationChanges"/> pages on its own.
    /// </summary>
    public Task<TieReputationUpdatesReply> GetReputationUpdatesAsync(TieReputationUpdatesRequest request, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var payload = TieReputationUpdates.Request(request);
        return RequestAsync(TieTopics.ReputationUpdates, payload, timeout, 0, static (p, _) => TieReputationUpdates.ParseReply(p), cancellationToken);
    }

    /// <summary>
    /// The change feed from <paramref name="start"/> (a TIE server time, or where an earlier run stopped), page by
    /// page, each subject once; <see cref="TieReputationFeed.Position"/> tells where the next run starts.
    /// <paramref name="request"/> gives the page size and filters; its <c>SinceTime</c> is ignored.
    /// </summary>
    public TieReputationFeed ReadReputationChanges(TieReputationUpdatesRequest request, TieFeedPosition start, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(start);
        (request with { SinceTime = start.SinceTime }).Validate();
        return new TieReputationFeed(this, request, start, timeout);
    }
}
