using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

/// <summary>
/// What the delivery policy needs from a connection: whether it can send now, waiting for it, writing, the broker's
/// confirmation, the errors that say why the fabric could not be reached, and the clock (Environment.TickCount64
/// milliseconds). The client's <see cref="DxlClientConnection"/> is the real one; tests script one.
/// </summary>
internal interface IDxlDeliveryLink
{
    long NowMs { get; }
    DateTimeOffset UtcNow { get; }
    DxlResilienceTimings Timings { get; }

    bool IsConnected { get; }

    /// <summary>How many times the connection came back after an outage.</summary>
    int ReconnectCount { get; }

    /// <summary>The last outage that ended with a reconnect, or null.</summary>
    DxlOutage? LastOutage { get; }

    /// <summary>True when a message may go out at once: connected, and the line not silent for longer than <paramref name="timeout"/>.</summary>
    bool IsReady(TimeSpan timeout);

    /// <summary>Waits while the client reconnects, until <paramref name="deadlineMs"/>; throws when the fabric cannot be reached in time or the client is not connecting at all.</summary>
    Task WaitUntilReadyAsync(string what, TimeSpan timeout, long deadlineMs, CancellationToken cancellationToken);

    /// <summary>True when an operation whose message was lost can wait for the reconnect and try again before its deadline.</summary>
    bool CanWaitForReconnect(long deadlineMs);

    /// <summary>True while requests sent now may beat the services back after a reconnect.</summary>
    bool IsSettling(long nowMs);

    Task PublishAsync(DxlMessage message, CancellationToken cancellationToken);

    /// <summary>True once the broker has read everything written so far (see <see cref="EventConfirmations"/>).</summary>
    Task<bool> ConfirmWrittenAsync();

    Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>The answer, or <see cref="TimeoutException"/> after <paramref name="wait"/>.</summary>
    Task<DxlResponse> WaitForAnswerAsync(Task<DxlResponse> answer, TimeSpan wait, CancellationToken cancellationToken);

    /// <summary>A request with no answer in time: a plain timeout, unless the line itself went silent since it was sent.</summary>
    DxlException NoAnswer(string topic, string messageId, TimeSpan timeout);

    /// <summary>An operation that could not reach the fabric in time.</summary>
    DxlFabricUnreachableException Unreachable(string what);
}
