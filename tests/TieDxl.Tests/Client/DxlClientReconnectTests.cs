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
    public async Task BrokerRestartFailsPendingRequestsFastThenReconnectsResubscribesAndServes()
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
        foreach (var task in pending)
            await Assert.ThrowsAsync<DxlConnectionException>(() => task);
        // Failed at once, not after the 60 s timeout.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"pending requests took {watch.Elapsed} to fail");
        Assert.NotEqual(DxlConnectionState.Connected, client.State);

        // While down: a new request fails fast too.
        await Assert.ThrowsAsync<DxlConnectionException>(() => client.RequestAsync(new DxlRequest(topic), TimeSpan.FromSeconds(30)));

        env.Broker.Start();
        await DxlClientMosquittoTests.WaitUntil(() => client.IsConnected && service.IsConnected, 20_000);

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
