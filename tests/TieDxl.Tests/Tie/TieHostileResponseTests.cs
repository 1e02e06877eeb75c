using System.Text;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;

namespace TieDxl.Tests.Tie;

/// <summary>A TIE service that answers hostile payloads: deep nesting, huge valid replies, over-limit replies.</summary>
public sealed class TieHostileResponseTests(MosquittoEnvironment env) : IClassFixture<MosquittoEnvironment>
{
    private static readonly TieHashes Notepad = TieHashes.FromHex("f2c7bb8acc97f92e987a2d4087d021b1");

    private async Task<T> WithServiceAnswering<T>(byte[] payload, Func<TieClient, Task<T>> call)
    {
        await using var service = await env.ConnectAsync();
        await service.RegisterServiceAsync(new DxlService("/tiedxl/test/hostile-tie").AddHandler(TieTopics.FileReputation,
            (request, _) => ValueTask.FromResult<DxlResponse?>(new DxlResponse(request, payload))));
        await using var client = await env.ConnectAsync();
        return await call(new TieClient(client) { DefaultTimeout = TimeSpan.FromSeconds(5) });
    }

    [Fact]
    public async Task ADeeplyNestedReplyIsAMalformedResponseNotACrash()
    {
        var nested = Encoding.UTF8.GetBytes("{\"reputations\":" + new string('[', 5000) + new string(']', 5000) + "}");
        var error = await Assert.ThrowsAsync<TieMalformedResponseException>(() =>
            WithServiceAnswering(nested, tie => tie.GetFileReputationAsync(Notepad)));
        Assert.True(error.Payload!.Length <= 4097, "the payload kept in the exception is shortened");
    }

    [Fact]
    public async Task AHugeButValidReplyIsParsed()
    {
        // ~900 KB: 2,000 providers each with a 400-character attribute.
        var reputations = string.Join(",", Enumerable.Range(1000, 2000).Select(i =>
            $"{{\"providerId\":{i},\"trustLevel\":50,\"createDate\":1451502875,\"attributes\":{{\"2120340\":\"{new string('9', 400)}\"}}}}"));
        var payload = Encoding.UTF8.GetBytes("{\"props\":{\"serverTime\":1451505556},\"reputations\":[" + reputations + "]}");
        Assert.InRange(payload.Length, 800_000, DxlMessageLimits.Below);

        var result = await WithServiceAnswering(payload, tie => tie.GetFileReputationAsync(Notepad));

        Assert.Equal(2000, result.Reputations.Count);
    }

    [Fact]
    public async Task AReplyOverTheBrokerLimitNeverArrivesAndTheCallerTimesOutCleanly()
    {
        var payload = Encoding.UTF8.GetBytes("{\"reputations\":[],\"pad\":\"" + new string('x', 1_100_000) + "\"}");
        await Assert.ThrowsAsync<TieTimeoutException>(() =>
            WithServiceAnswering(payload, tie => tie.GetFileReputationAsync(Notepad, TimeSpan.FromSeconds(1))));
    }
}

internal static class DxlMessageLimits
{
    /// <summary>Just under the broker's 1 MiB limit, leaving room for the envelope.</summary>
    public const int Below = 1_000_000;
}
