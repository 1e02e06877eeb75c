using System.Collections.Concurrent;
using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

public sealed partial class DxlClient
{
    private readonly ConcurrentDictionary<string, PendingRequest> _pending = new(StringComparer.Ordinal);

    private sealed class PendingRequest(string topic)
    {
        public string Topic { get; } = topic;
        public TaskCompletionSource<DxlResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Requests awaiting a response right now.</summary>
    public int PendingRequestCount => _pending.Count;

    /// <summary>
    /// Sends a request and awaits its response. An error response throws <see cref="DxlErrorResponseException"/>,
    /// no answer in time throws <see cref="DxlTimeoutException"/>, a lost connection fails at once with
    /// <see cref="DxlConnectionException"/>.
    /// </summary>
    public async Task<DxlResponse> RequestAsync(DxlRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "The timeout must be positive.");
        if (string.IsNullOrEmpty(request.MessageId)) request.MessageId = DxlMessage.NewId();
        request.ReplyToTopic = ReplyTopic;
        var messageId = request.MessageId!;
        var pending = new PendingRequest(request.DestinationTopic);
        // Registered before publishing: the response can arrive before PublishAsync returns.
        if (!_pending.TryAdd(messageId, pending))
            throw new ArgumentException($"A request with message id {messageId} is already pending.", nameof(request));
        try
        {
            await PublishAsync(request, cancellationToken).ConfigureAwait(false);
            DxlResponse response;
            try
            {
                response = await pending.Completion.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new DxlTimeoutException(request.DestinationTopic, messageId, timeout);
            }
            if (response is DxlErrorResponse error)
                throw new DxlErrorResponseException(request.DestinationTopic, error);
            return response;
        }
        finally
        {
            _pending.TryRemove(messageId, out _);
        }
    }

    /// <summary>
    /// Proves the reply topic works end to end: publishes a response to this client's own reply topic and waits
    /// for it to come back through the broker.
    /// </summary>
    public async Task PingReplyTopicAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var id = DxlMessage.NewId();
        var pending = new PendingRequest(ReplyTopic);
        _pending[id] = pending;
        try
        {
            await PublishAsync(new DxlResponse { DestinationTopic = ReplyTopic, RequestMessageId = id }, cancellationToken).ConfigureAwait(false);
            try
            {
                await pending.Completion.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new DxlTimeoutException(ReplyTopic, id, timeout);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private void OnResponse(DxlResponse response)
    {
        var id = response.RequestMessageId;
        if (id is not null && _pending.TryRemove(id, out var pending))
            pending.Completion.TrySetResult(response);
        else
            _log(DxlLogLevel.Debug, $"DXL client {ClientId}: response to unknown or expired request {id}");
    }

    private void FailAllPending(Exception error)
    {
        foreach (var key in _pending.Keys)
            if (_pending.TryRemove(key, out var pending))
                pending.Completion.TrySetException(error);
    }

    /// <summary>Publishes an event; completes when the bytes were handed to the connection. Fails if not connected.</summary>
    public Task SendEventAsync(DxlEvent dxlEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dxlEvent);
        return PublishAsync(dxlEvent, cancellationToken);
    }

    /// <summary>Publishes a response or error response (service side).</summary>
    public Task SendResponseAsync(DxlResponse response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        return PublishAsync(response, cancellationToken);
    }
}
