using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using Step = TieDxl.Tests.Client.ScriptedDeliveryLink.Step;

namespace TieDxl.Tests.Client;

/// <summary>
/// Each rule of <see cref="DxlDeliveryPolicy"/> on a scripted connection with a virtual clock: no broker, no sleep.
/// The log lines carry the virtual time in milliseconds since the start.
/// </summary>
public sealed class DxlDeliveryPolicyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly PendingRequests _pending = new();
    private readonly ScriptedDeliveryLink _link;
    private readonly DxlDeliveryPolicy _policy;

    public DxlDeliveryPolicyTests()
    {
        _link = new ScriptedDeliveryLink(_pending);
        _policy = new DxlDeliveryPolicy(_link, _pending);
    }

    private static DxlRequest Request(bool idempotent = true) =>
        new("/test/service", [0]) { MessageId = DxlMessage.NewId(), ReplyToTopic = "/mcafee/client/me", IsIdempotent = idempotent };

    private Task<DxlResponse> Send(DxlRequest request, TimeSpan? timeout = null) => _policy.RequestAsync(request, timeout ?? Timeout, CancellationToken.None);

    private int Publishes => _link.Log.Count(l => l.Contains(" publish "));

    [Fact]
    public async Task An_answered_request_is_sent_once_and_leaves_nothing_pending()
    {
        var response = await Send(Request());
        Assert.Equal([1], response.Payload.ToArray());
        Assert.Equal(["t=0 publish " + _link.Published[0].MessageId], _link.Log);
        Assert.Equal(0, _pending.Count);
    }

    [Fact]
    public async Task While_reconnecting_a_request_waits_for_the_connection_then_goes_out()
    {
        _link.Connected = false;
        await Send(Request());
        Assert.Equal("t=100 reconnected", _link.Log[0]);
        Assert.StartsWith("t=100 publish", _link.Log[1]);
    }

    [Fact]
    public async Task A_reconnect_that_outlasts_the_deadline_fails_as_unreachable_without_sending()
    {
        _link.Connected = false;
        _link.ReconnectTakesMs = 20_000;
        await Assert.ThrowsAsync<DxlFabricUnreachableException>(() => Send(Request()));
        Assert.Equal(0, Publishes);
    }

    [Fact]
    public async Task A_failed_write_is_written_again_after_the_reconnect_with_the_same_message_id()
    {
        _link.Then(Step.WriteFails, Step.Answer);
        var request = Request(idempotent: false);
        await Send(request);
        Assert.Equal(2, Publishes);
        Assert.Contains("t=0 delay 10", _link.Log);
        Assert.Contains("t=110 reconnected", _link.Log);
        Assert.All(_link.Log.Where(l => l.Contains("publish")), l => Assert.EndsWith(request.MessageId!, l));
    }

    [Fact]
    public async Task A_failed_write_when_the_client_will_not_reconnect_fails_at_once()
    {
        _link.Reconnects = false;
        _link.Then(Step.WriteFails);
        await Assert.ThrowsAsync<DxlConnectionException>(() => Send(Request()));
        Assert.Equal(1, Publishes);
    }

    [Fact]
    public async Task An_idempotent_request_whose_answer_was_lost_is_sent_again_after_the_reconnect()
    {
        _link.Then(Step.LoseConnectionAfterWrite, Step.Answer);
        await Send(Request());
        Assert.Equal(2, Publishes);
        Assert.Contains("t=100 reconnected", _link.Log);
    }

    [Fact]
    public async Task An_answer_lost_more_than_three_times_fails_with_connection_lost()
    {
        _link.Then(Step.LoseConnectionAfterWrite, Step.LoseConnectionAfterWrite, Step.LoseConnectionAfterWrite, Step.LoseConnectionAfterWrite, Step.Answer);
        await Assert.ThrowsAsync<DxlConnectionLostException>(() => Send(Request(), TimeSpan.FromMinutes(1)));
        Assert.Equal(1 + DxlDeliveryPolicy.MaxResendsAfterLoss, Publishes);
    }

    [Fact]
    public async Task A_request_that_is_not_idempotent_is_never_sent_again_after_its_answer_was_lost()
    {
        _link.Then(Step.LoseConnectionAfterWrite, Step.Answer);
        await Assert.ThrowsAsync<DxlConnectionLostException>(() => Send(Request(idempotent: false)));
        Assert.Equal(1, Publishes);
    }

    [Fact]
    public async Task In_the_settle_window_an_idempotent_request_is_sent_again_after_doubling_waits()
    {
        _link.JustReconnected();
        _link.Then(Step.Silence, Step.Silence, Step.Answer);
        await Send(Request());
        Assert.Equal(3, Publishes);
        Assert.Contains("t=0 no answer within 1000", _link.Log);
        Assert.Contains("t=1000 no answer within 2000", _link.Log);
        Assert.StartsWith("t=3000 publish", _link.Log.Last());
    }

    [Fact]
    public async Task In_the_settle_window_a_request_that_is_not_idempotent_waits_its_whole_timeout()
    {
        _link.JustReconnected();
        _link.Then(Step.Silence, Step.Answer);
        var error = await Assert.ThrowsAsync<DxlTimeoutException>(() => Send(Request(idempotent: false)));
        Assert.Equal(1, Publishes);
        Assert.Contains("t=0 no answer within 10000", _link.Log);
        Assert.Equal(Timeout, error.Timeout);
    }

    [Fact]
    public async Task Outside_the_settle_window_a_slow_answer_is_awaited_and_silence_times_out_once()
    {
        _link.Then(Step.AnswerAfter500Ms);
        Assert.Equal([2], (await Send(Request())).Payload.ToArray());
        _link.Then(Step.Silence);
        await Assert.ThrowsAsync<DxlTimeoutException>(() => Send(Request()));
        Assert.Equal(2, Publishes);
    }

    [Fact]
    public async Task No_service_in_the_settle_window_is_retried_after_a_doubling_back_off_for_any_request()
    {
        _link.JustReconnected();
        _link.Then(Step.NoService, Step.NoService, Step.Answer);
        await Send(Request(idempotent: false));
        Assert.Equal(3, Publishes);
        Assert.Contains("t=0 delay 250", _link.Log);
        Assert.Contains("t=250 delay 500", _link.Log);
    }

    [Fact]
    public async Task No_service_outside_the_settle_window_fails_at_once()
    {
        _link.Then(Step.NoService);
        var error = await Assert.ThrowsAsync<DxlErrorResponseException>(() => Send(Request()));
        Assert.True(error.IsServiceNotFound);
        Assert.Equal(1, Publishes);
    }

    [Fact]
    public async Task No_service_is_not_retried_when_the_back_off_would_pass_the_deadline()
    {
        _link.JustReconnected();
        _link.Then(Step.NoService, Step.NoService);
        await Assert.ThrowsAsync<DxlErrorResponseException>(() => Send(Request(), TimeSpan.FromMilliseconds(400)));
        Assert.Equal(2, Publishes);
    }

    [Fact]
    public async Task An_event_confirmed_by_the_broker_is_published_once()
    {
        await _policy.SendEventAsync(new DxlEvent("/test/event", [1]), Timeout, CancellationToken.None);
        Assert.Equal(1, Publishes);
    }

    [Fact]
    public async Task An_unconfirmed_event_is_published_again_on_the_next_connection()
    {
        _link.ConfirmNext(false, true);
        _link.Then(Step.LoseConnectionAfterWrite);
        await _policy.SendEventAsync(new DxlEvent("/test/event", [1]), Timeout, CancellationToken.None);
        Assert.Equal(2, Publishes);
        Assert.Contains("t=0 delay 20", _link.Log);
        Assert.Contains("t=120 reconnected", _link.Log);
    }

    [Fact]
    public async Task An_event_whose_write_failed_is_published_again_after_the_reconnect()
    {
        _link.Then(Step.WriteFails);
        await _policy.SendEventAsync(new DxlEvent("/test/event", [1]), Timeout, CancellationToken.None);
        Assert.Equal(2, Publishes);
    }

    [Fact]
    public async Task An_event_that_cannot_wait_for_a_reconnect_fails_as_unreachable()
    {
        _link.Reconnects = false;
        _link.ConfirmNext(false);
        await Assert.ThrowsAsync<DxlFabricUnreachableException>(() =>
            _policy.SendEventAsync(new DxlEvent("/test/event", [1]), Timeout, CancellationToken.None));
        Assert.Equal(1, Publishes);
    }

    [Fact]
    public async Task Waiting_for_the_connection_gives_up_at_once_on_cancellation()
    {
        _link.Connected = false;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _policy.RequestAsync(Request(), Timeout, cancelled.Token));
        Assert.Equal(0, Publishes);
    }

    private static DxlEvent Event(string name, bool idempotent = true) => new($"/test/event/{name}", [1]) { IsIdempotent = idempotent };

    private List<string> PublishedTopics => _link.Published.Select(m => m.DestinationTopic).ToList();

    [Fact]
    public async Task Idempotent_events_confirmed_in_the_second_before_an_outage_noticed_late_are_published_again_after_it()
    {
        await _policy.SendEventAsync(Event("early"), Timeout, CancellationToken.None);
        _link.Advance(5_000);
        await _policy.SendEventAsync(Event("late"), Timeout, CancellationToken.None);
        await _policy.SendEventAsync(Event("plain", idempotent: false), Timeout, CancellationToken.None);
        // The drop is noticed late (a loaded machine): the window still reaches the last events before it.
        _link.Advance((long)(RecentEvents.LateNotice + RecentEvents.ReplayWindow).TotalMilliseconds - 100);
        _link.Connected = false;
        _link.Advance(3_000);
        var outage = _link.Reconnect();

        await _policy.ReplayAfterAsync(outage, CancellationToken.None);

        Assert.Equal(["/test/event/early", "/test/event/late", "/test/event/plain", "/test/event/late"], PublishedTopics);
    }

    [Fact]
    public async Task The_events_before_an_outage_stay_until_their_replay_however_many_are_sent_meanwhile()
    {
        await _policy.SendEventAsync(Event("before"), Timeout, CancellationToken.None);
        _link.Connected = false;
        _link.Advance(10_000);
        var outage = _link.Reconnect();
        // Sent after the reconnect but before the replay ran: old events must not be trimmed yet.
        _link.Advance(5_000);
        await _policy.SendEventAsync(Event("after"), Timeout, CancellationToken.None);

        await _policy.ReplayAfterAsync(outage, CancellationToken.None);

        Assert.Equal(["/test/event/before", "/test/event/after", "/test/event/before"], PublishedTopics);
    }

    [Fact]
    public async Task After_a_reconnect_events_wait_for_their_receivers_check_which_runs_once_per_reconnect()
    {
        var checks = 0;
        _policy.SetReceiverCheck("/test/event/checked", (_, _) =>
        {
            Interlocked.Increment(ref checks);
            _link.Note("receivers back");
            return Task.CompletedTask;
        });
        await _policy.SendEventAsync(Event("checked"), Timeout, CancellationToken.None);
        Assert.Equal(0, checks); // no reconnect yet: nothing to wait for

        _link.Connected = false;
        _link.Reconnect();
        await _policy.SendEventAsync(Event("checked"), Timeout, CancellationToken.None);
        await _policy.SendEventAsync(Event("checked"), Timeout, CancellationToken.None);
        await _policy.SendEventAsync(Event("unchecked"), Timeout, CancellationToken.None);

        Assert.Equal(1, checks);
        Assert.True(_link.Log.IndexOf(_link.Log.First(l => l.EndsWith("receivers back"))) < _link.Log.FindLastIndex(l => l.Contains(" publish ")));
    }

    [Fact]
    public async Task A_reconnect_long_past_needs_no_receivers_check()
    {
        var checks = 0;
        _policy.SetReceiverCheck("/test/event/checked", (_, _) => { checks++; return Task.CompletedTask; });
        _link.Connected = false;
        _link.Reconnect();
        _link.Advance((long)EventReceivers.ComebackWindow.TotalMilliseconds + 1);
        await _policy.SendEventAsync(Event("checked"), Timeout, CancellationToken.None);
        Assert.Equal(0, checks);
    }

    [Fact]
    public async Task A_failing_receivers_check_still_lets_the_event_go_out()
    {
        _policy.SetReceiverCheck("/test/event/checked", (_, _) => Task.FromException(new InvalidOperationException("not authorised to ask")));
        _link.Connected = false;
        _link.Reconnect();
        await _policy.SendEventAsync(Event("checked"), Timeout, CancellationToken.None);
        Assert.Equal(["/test/event/checked"], PublishedTopics);
    }

    [Fact]
    public async Task An_idempotent_event_sent_across_a_reconnect_goes_out_once_more_after_it()
    {
        _link.Then(Step.LoseConnectionAfterWrite, Step.Answer, Step.Answer, Step.LoseConnectionAfterWrite, Step.Answer);
        await _policy.SendEventAsync(Event("idempotent"), Timeout, CancellationToken.None);
        Assert.Equal(3, _link.Published.Count);

        await _policy.SendEventAsync(Event("plain", idempotent: false), Timeout, CancellationToken.None);
        Assert.Equal(5, _link.Published.Count); // lost once, sent again on the next connection, and no more
    }
}
