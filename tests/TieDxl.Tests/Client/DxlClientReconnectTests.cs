using System.Diagnostics;
using System.Text;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Tests.Client;

/// <summary>Broker restarts in the middle of traffic. Own class: it kills its own mosquitto.</summary>
public sealed class DxlClientReconnectTests(MosquittoEnvironment env) : IClassFixture<MosquittoEnvironment>
{
    [Fact]
    public async Task BrokerRestartFailsPendingRequestsFastNewOnesWaitThenReconnectsResubscribesAndServes()
    {
        var topic = $"/tiedxl/test/slow/{Guid.NewGuid():N}";
        var eventTopic = $"/tiedxl/test/restart-events/{Guid.NewGuid():N}";
        // A service that sits on requests long enough for the broker to die under them.
        var slow = new DxlService("/tiedxl/test/slow").AddHandler(topic, async (request, ct) =>
        {
            if (request.PayloadText == "slow") await Task.Delay(TimeSpan.FromSeconds(30), ct);
            return new DxlResponse(request, request.Payload);
        });
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(slow);
        await using var client = await env.ConnectAsync();
        var events = 0;
        await using var subscription = await client.SubscribeAsync(eventTopic, _ => { Interlocked.Increment(ref events); return Task.CompletedTask; });

        Assert.Equal("warm", (await client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("warm")), TimeSpan.FromSeconds(10))).PayloadText);

        var pending = Enumerable.Range(0, 50)
            .Select(_ => client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("slow")), TimeSpan.FromSeconds(60)))
            .ToArray();
        await DxlClientMosquittoTests.WaitUntil(() => client.PendingRequestCount == 50);

        var watch = Stopwatch.StartNew();
        env.Broker.Kill();
        // Not idempotent (the default): the answer is lost with the connection, so they fail at once, not after 60 s.
        foreach (var task in pending)
            await Assert.ThrowsAsync<DxlConnectionLostException>(() => task);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"pending requests took {watch.Elapsed} to fail");
        Assert.Equal(DxlConnectionState.Reconnecting, client.State);
        Assert.NotNull(client.UnreachableSince);

        // While down: a new request waits for the connection within its own timeout, then says why it was not sent.
        watch.Restart();
        var unreachable = await Assert.ThrowsAsync<DxlFabricUnreachableException>(() => client.RequestAsync(new DxlRequest(topic), TimeSpan.FromSeconds(2)));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.Contains($"127.0.0.1:{env.Broker.Port}", unreachable.Message);
        Assert.Contains("unreachable since", unreachable.Message);
        Assert.Contains($"ssl://127.0.0.1:{env.Broker.Port}", unreachable.BrokersTried);

        // A request issued while down goes out once the broker is back. Idempotent: the service may re-subscribe after
        // this client does, and an unanswered idempotent request is sent again in the first seconds after a reconnect.
        var waiting = client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("waited")) { IsIdempotent = true }, TimeSpan.FromSeconds(30));

        env.Broker.Start();
        await DxlClientMosquittoTests.WaitUntil(() => client.IsConnected && service.IsConnected, 20_000);

        Assert.Equal("waited", (await waiting).PayloadText);
        Assert.Equal(1, client.ReconnectCount);

        // Re-subscribed: the reply topic (responses arrive), the service topic, and the event topic.
        var response = await RetryAsync(() => client.RequestAsync(new DxlRequest(topic, Encoding.UTF8.GetBytes("after")), TimeSpan.FromSeconds(5)));
        Assert.Equal("after", response.PayloadText);
        await service.SendEventAsync(new DxlEvent(eventTopic));
        await DxlClientMosquittoTests.WaitUntil(() => Volatile.Read(ref events) == 1);
    }

    /// <summary>Subscriptions are restored right after CONNACK; allow a moment for the SUBACK to land.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await action(); }
            catch (DxlTimeoutException) when (attempt < 3) { }
        }
    }
}
