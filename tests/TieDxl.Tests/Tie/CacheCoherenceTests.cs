using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Fabric;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;
using TieDxl.Tie.Caching;

namespace TieDxl.Tests.Tie;

/// <summary>
/// What keeps the session cache true, each test with its own broker: a real mosquitto's restart clears it, and a
/// fabric that refuses the change events (as ePO's topic authorization can) leaves it answering within one run only,
/// saying why. (mosquitto's own ACL file never refuses a subscription, it only withholds messages: the embedded
/// fabric stands in for a broker that refuses.)
/// </summary>
[Collection(nameof(CachingMemoryTests))]
public sealed class CacheCoherenceTests
{
    private const string FileChanges = "/mcafee/event/tie/file/repchange/broadcast";

    [Fact]
    public async Task AMosquittoRestartClearsTheCacheAndTheNextLookupGoesToTie()
    {
        using var env = new MosquittoEnvironment();
        await using var simClient = await env.ConnectAsync();
        await using var simulator = new TieSimulator(simClient);
        await simulator.StartAsync();
        await using var client = await env.ConnectAsync();
        var tie = new TieClient(client) { DefaultTimeout = TimeSpan.FromSeconds(10) };
        var file = TieEndToEndTests.NewFile();
        var options = new TieLookupOptions();
        await tie.GetFileReputationAsync(file, options);
        Assert.True((await tie.GetFileReputationAsync(file, options)).FromCache);

        env.Broker.Kill();
        await Task.Delay(500);
        env.Broker.Start();
        Assert.True(await Poll.UntilAsync(() => tie.CacheStatistics.ClearsByReconnect >= 1, TimeSpan.FromSeconds(30)), "the reconnect did not clear the cache");

        // The simulator's client reconnects and re-registers too; the lookup waits for it within its timeout.
        var before = simulator.RequestCount;
        var after = await tie.GetFileReputationAsync(file, options, TimeSpan.FromSeconds(30));
        Assert.Equal(TieAnswerSource.Tie, after.Source);
        Assert.Equal(1, simulator.RequestCount - before);
        Assert.Equal(TieCacheState.On, tie.CacheStatistics.State);
    }

    [Fact]
    public async Task RefusedChangeEventsLeaveTheCacheAnsweringWithinOneRunAndSayWhy()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions
        {
            WithProvisioningEndpoint = false, DeniedSubscriptions = [FileChanges],
        });
        var simulator = fabric.Simulator!;
        await using var client = new DxlClient(fabric.NewClientConfig());
        await client.ConnectAsync();

        var refused = await Assert.ThrowsAsync<DxlSubscriptionRefusedException>(() => client.SubscribeAsync(FileChanges, _ => Task.CompletedTask));
        Assert.Equal([FileChanges], refused.Topics);
        Assert.Contains("not authorised", refused.Message);
        // Other topics are granted as before.
        await using (await client.SubscribeAsync("/tiedxl/test/granted", _ => Task.CompletedTask)) { }

        var tie = new TieClient(client) { DefaultTimeout = TimeSpan.FromSeconds(10) };
        var file = TieEndToEndTests.NewFile();
        var run = new TieLookupRun();
        var inRun = new TieLookupOptions { Run = run };
        var before = simulator.RequestCount;
        await tie.GetFileReputationAsync(file, inRun);
        var copy = await tie.GetFileReputationAsync(file, inRun);
        Assert.Equal(TieAnswerSource.Shared, copy.Source);

        var statistics = tie.CacheStatistics;
        Assert.Equal(TieCacheState.RunOnly, statistics.State);
        Assert.Contains("not authorised", statistics.Reason);
        Assert.Equal(0, statistics.Entries);

        // The next command asks TIE again: nothing was kept across runs.
        var next = await tie.GetFileReputationAsync(file, new TieLookupOptions { Run = new TieLookupRun() });
        Assert.Equal(TieAnswerSource.Tie, next.Source);
        Assert.Equal(2, simulator.RequestCount - before);
    }
}
