using System.Collections.Concurrent;
using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

/// <summary>A request awaiting its response: its own completion source, one object per attempt.</summary>
internal sealed class PendingRequest(string topic) : TaskCompletionSource<DxlResponse>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public string Topic { get; } = topic;

    /// <summary>Environment.TickCount64 when published; 0 until then. Read by the liveness monitor.</summary>
    public long SentAt;
}

/// <summary>
/// The requests of one client that await a response, by message id. Responses complete them from the receive loop;
/// a lost connection fails them all at once.
/// </summary>
internal sealed class PendingRequests
{
    private readonly ConcurrentDictionary<string, PendingRequest> _byId = new(StringComparer.Ordinal);

    public int Count => _byId.Count;

    /// <summary>Registers a request before it is published (its response can arrive before the publish returns).</summary>
    public PendingRequest Add(string messageId, string topic)
    {
        var pending = new PendingRequest(topic);
        if (!_byId.TryAdd(messageId, pending))
            throw new ArgumentException($"A request with message id {messageId} is already pending.", nameof(messageId));
        return pending;
    }

    /// <summary>Removes this registration (and not a later one under the same id).</summary>
    public void Remove(string messageId, PendingRequest pending) =>
        _byId.TryRemove(new KeyValuePair<string, PendingRequest>(messageId, pending));

    /// <summary>Completes the request the response answers; false when none waits for it (unknown or expired).</summary>
    public bool Complete(DxlResponse response)
    {
        if (response.RequestMessageId is not { } id || !_byId.TryRemove(id, out var pending)) return false;
        pending.TrySetResult(response);
        return true;
    }

    public void FailAll(Exception error)
    {
        foreach (var key in _byId.Keys)
            if (_byId.TryRemove(key, out var pending))
                pending.TrySetException(error);
    }

    /// <summary>When the oldest published request still waiting was sent (Environment.TickCount64), or null.</summary>
    public long? OldestSentAt()
    {
        long? oldest = null;
        // The dictionary's own enumerator takes no locks (its Values property would lock every bucket).
        foreach (var (_, pending) in _byId)
        {
            var sentAt = Volatile.Read(ref pending.SentAt);
            if (sentAt != 0 && (oldest is null || sentAt < oldest)) oldest = sentAt;
        }
        return oldest;
    }
}
