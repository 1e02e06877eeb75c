using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;

namespace TieDxl.Tests.Client;

/// <summary>
/// A connection whose every move is scripted, with a virtual clock: waits and pauses advance <see cref="NowMs"/>
/// instead of sleeping, so the delivery policy's rules run without a broker and without real time.
/// </summary>
internal sealed class ScriptedDeliveryLink(PendingRequests pending) : IDxlDeliveryLink
{
    /// <summary>What happens to one publish.</summary>
    public enum Step { Answer, AnswerAfter500Ms, Silence, WriteFails, LoseConnectionAfterWrite, NoService }

    private readonly Queue<Step> _steps = new();
    private readonly Queue<bool> _confirmations = new();

    private static readonly DateTimeOffset Epoch = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private bool _connected = true;
    private long _lostAtMs;

    public long NowMs { get; private set; } = 1_000_000;
    public DateTimeOffset UtcNow => Epoch + TimeSpan.FromMilliseconds(NowMs);
    public DxlResilienceTimings Timings { get; } = DxlResilienceTimings.Default;

    public bool Connected
    {
        get => _connected;
        set
        {
            if (_connected && !value) _lostAtMs = NowMs;
            _connected = value;
        }
    }

    public bool IsConnected => Connected;
    public int ReconnectCount { get; private set; }
    public DxlOutage? LastOutage { get; private set; }

    /// <summary>Time passes with nothing happening.</summary>
    public void Advance(long ms) => NowMs += ms;

    /// <summary>The connection comes back now: counts the reconnect and returns the outage it ended.</summary>
    public DxlOutage Reconnect()
    {
        Connected = true;
        ReconnectedAtMs = NowMs;
        ReconnectCount++;
        var broker = new Dxl.Config.DxlBroker("scripted", "127.0.0.1", 1);
        LastOutage = new DxlOutage(Epoch + TimeSpan.FromMilliseconds(_lostAtMs), UtcNow, "scripted", broker, broker, ["ssl://127.0.0.1:1"]);
        Note("reconnected");
        return LastOutage;
    }

    /// <summary>False: the client would not reconnect (closed, or reconnecting switched off).</summary>
    public bool Reconnects { get; set; } = true;

    public long ReconnectTakesMs { get; set; } = 100;
    public long ReconnectedAtMs { get; set; } = long.MinValue / 2;

    /// <summary>Everything that happened, with the virtual time: "t=... publish id", "t=... delay 10", "t=... reconnected".</summary>
    public List<string> Log { get; } = new();

    public List<DxlMessage> Published { get; } = new();

    public ScriptedDeliveryLink Then(params Step[] steps)
    {
        foreach (var step in steps) _steps.Enqueue(step);
        return this;
    }

    public ScriptedDeliveryLink ConfirmNext(params bool[] confirmations)
    {
        foreach (var c in confirmations) _confirmations.Enqueue(c);
        return this;
    }

    /// <summary>A reconnect has just happened: the settle window is open.</summary>
    public void JustReconnected() => ReconnectedAtMs = NowMs;

    public void Note(string what) => Log.Add($"t={NowMs - 1_000_000} {what}");


    public bool IsReady(TimeSpan timeout) => Connected;

    public Task WaitUntilReadyAsync(string what, TimeSpan timeout, long deadlineMs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Connected) return Task.CompletedTask;
        if (!Reconnects) return Task.FromException(new DxlConnectionException($"Not connected: {what} was not sent."));
        if (NowMs + ReconnectTakesMs > deadlineMs)
        {
            NowMs = deadlineMs;
            return Task.FromException(Unreachable($"{what} was not sent in time"));
        }
        NowMs += ReconnectTakesMs;
        Reconnect();
        return Task.CompletedTask;
    }

    public bool CanWaitForReconnect(long deadlineMs) => Reconnects && deadlineMs - NowMs > 0;

    public bool IsSettling(long nowMs) => nowMs - ReconnectedAtMs < (long)Timings.SettleWindow.TotalMilliseconds;

    public Task PublishAsync(DxlMessage message, CancellationToken cancellationToken)
    {
        Note($"publish {message.MessageId}");
        var step = _steps.Count > 0 ? _steps.Dequeue() : Step.Answer;
        if (step == Step.WriteFails)
        {
            Connected = false;
            return Task.FromException(new DxlConnectionException("the write failed"));
        }
        Published.Add(message);
        if (step == Step.LoseConnectionAfterWrite)
        {
            Connected = false;
            pending.FailAll(new DxlConnectionLostException("the connection was lost"));
        }
        else if (message is DxlRequest request) Respond(request, step);
        return Task.CompletedTask;
    }

    private readonly Dictionary<string, Step> _delayed = new();

    private void Respond(DxlRequest request, Step step)
    {
        switch (step)
        {
            case Step.Answer:
                pending.Complete(new DxlResponse(request, [1]));
                break;
            case Step.NoService:
                pending.Complete(new DxlErrorResponse(request, DxlErrorCodes.ServiceNotFound, DxlErrorCodes.ServiceNotFoundMessage));
                break;
            case Step.AnswerAfter500Ms:
                _delayed[request.MessageId!] = step;
                break;
        }
    }

    /// <summary>The next scripted confirmation; never confirmed while the line is down (the broker cannot answer a ping).</summary>
    public Task<bool> ConfirmWrittenAsync()
    {
        var scripted = _confirmations.Count == 0 || _confirmations.Dequeue();
        return Task.FromResult(scripted && Connected);
    }

    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        Note($"delay {(long)delay.TotalMilliseconds}");
        NowMs += (long)delay.TotalMilliseconds;
        return Task.CompletedTask;
    }

    public Task<DxlResponse> WaitForAnswerAsync(Task<DxlResponse> answer, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (answer.IsCompleted) return answer;
        var waitMs = (long)wait.TotalMilliseconds;
        var last = Published.LastOrDefault() as DxlRequest;
        if (last is not null && _delayed.Remove(last.MessageId!) && waitMs >= 500)
        {
            NowMs += 500;
            Note("answered after 500");
            pending.Complete(new DxlResponse(last, [2]));
            return answer;
        }
        Note($"no answer within {waitMs}");
        NowMs += waitMs;
        return Task.FromException<DxlResponse>(new TimeoutException());
    }

    public DxlException NoAnswer(string topic, string messageId, TimeSpan timeout) => new DxlTimeoutException(topic, messageId, timeout);

    public DxlFabricUnreachableException Unreachable(string what) =>
        new($"{what}: unreachable", DateTimeOffset.UtcNow, ["ssl://127.0.0.1:1"], "scripted");
}
