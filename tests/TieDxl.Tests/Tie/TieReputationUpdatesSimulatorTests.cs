using System.Text;
using TieDxl.Dxl.Messages;
using TieDxl.Fabric.Simulator;
using TieDxl.Tie;

namespace TieDxl.Tests.Tie;

/// <summary>The simulator's change feed called in-process on a clock the test moves: history, paging, every request field.</summary>
public sealed class TieReputationUpdatesSimulatorTests
{
    private const long Start = 1_800_000_000;
    private long _now = Start;
    private readonly TieSimulator _sim;

    public TieReputationUpdatesSimulatorTests()
    {
        _sim = new TieSimulator(new TieSimulatorOptions { Clock = () => DateTimeOffset.FromUnixTimeSeconds(Interlocked.Read(ref _now)) },
            (_, _) => Task.CompletedTask);
    }

    private async Task<DxlResponse> Call(string topic, byte[] payload, string client = "{client-a}")
    {
        var request = new DxlRequest(topic, payload) { ReplyToTopic = "/mcafee/client/" + client, SourceClientId = client };
        var response = await _sim.Service.Handlers[topic](request, CancellationToken.None);
        return Assert.IsAssignableFrom<DxlResponse>(response);
    }

    private async Task<TieReputationUpdatesReply> Updates(string json, string client = "{client-a}")
    {
        var response = await Call(TieTopics.ReputationUpdates, Encoding.UTF8.GetBytes(json), client);
        Assert.IsNotType<DxlErrorResponse>(response);
        return TieReputationUpdates.ParseReply(response.Payload);
    }

    private async Task SetFile(TieHashes hashes, long at)
    {
        Interlocked.Exchange(ref _now, at);
        var response = await Call(TieTopics.FileReputationSet, TiePayloads.SetFileReputationRequest(hashes, (int)TrustLevel.KnownMalicious, "f.exe", ""));
        Assert.IsNotType<DxlErrorResponse>(response);
    }

    private async Task SetCertificate(string sha1, long at)
    {
        Interlocked.Exchange(ref _now, at);
        var response = await Call(TieTopics.CertReputationSet,
            TiePayloads.SetCertificateReputationRequest(TieHashes.ParseHex(HashType.Sha1, sha1), null, (int)TrustLevel.KnownTrusted, ""));
        Assert.IsNotType<DxlErrorResponse>(response);
    }

    [Fact]
    public async Task TwoHundredFiftySetsComeInThreePagesOldestFirst()
    {
        var files = Enumerable.Range(0, 250).Select(_ => TieEndToEndTests.NewFile()).ToList();
        for (var i = 0; i < files.Count; i++) await SetFile(files[i], Start + i);
        Interlocked.Exchange(ref _now, Start + 1000);

        var first = await Updates($"{{\"sinceTime\":{Start - 10},\"queryLimit\":100}}");
        Assert.Equal(100, first.Count);
        Assert.True(first.QueryLimitExceeded);
        Assert.Equal(Start + 1000, first.ServerTime);
        Assert.Equal(Start + 99, first.LatestUpdateTime);
        Assert.Equal(files[0].Sha1, first.Files[0].Hash);
        Assert.Equal(files[99].Sha1, first.Files[99].Hash);
        Assert.Empty(first.Certificates);

        var second = await Updates($"{{\"sinceTime\":{first.LatestUpdateTime},\"queryLimit\":100}}");
        Assert.Equal(files[99].Sha1, second.Files[0].Hash); // the change at the boundary second is listed again
        var third = await Updates($"{{\"sinceTime\":{second.LatestUpdateTime},\"queryLimit\":100}}");
        Assert.Equal(52, third.Count);
        Assert.False(third.QueryLimitExceeded);
        Assert.Null(third.ServerTime);
        Assert.Equal(Start + 249, third.LatestUpdateTime);
    }

    [Fact]
    public async Task ASubjectIsListedOnceAtItsLatestChangeAndExternalReportsCount()
    {
        var a = TieEndToEndTests.NewFile();
        var b = TieEndToEndTests.NewFile();
        await SetFile(a, Start);
        await SetFile(b, Start + 1);
        await SetFile(a, Start + 2);
        Interlocked.Exchange(ref _now, Start + 3);
        await _sim.ProcessExternalReportAsync(new DxlEvent(TieTopics.ExternalFileReport,
            TiePayloads.ExternalFileReportEvent(TieHashes.FromHex(HashType.Sha256, b.Sha256!), (int)TrustLevel.KnownTrusted, 0, "b.exe", "")));

        var reply = await Updates($"{{\"sinceTime\":{Start}}}");
        Assert.Equal(new[] { a.Sha1, b.Sha1 }, reply.Files.Select(f => f.Hash));
        Assert.Equal(Start + 3, reply.LatestUpdateTime);
        Assert.Equal(2, (await Updates($"{{\"sinceTime\":{Start + 2}}}")).Count);
        Assert.Single((await Updates($"{{\"sinceTime\":{Start + 3}}}")).Files);
        Assert.Equal(0, (await Updates($"{{\"sinceTime\":{Start + 4}}}")).Count);
    }

    [Fact]
    public async Task TargetTypesChooseTheSubjectsAndTheHash()
    {
        var file = TieEndToEndTests.NewFile();
        var md5Only = TieHashes.FromHex(HashType.Md5, TieEndToEndTests.NewFile().Md5!);
        var cert = Convert.ToHexString(Guid.NewGuid().ToByteArray().Concat(new byte[4]).ToArray());
        await SetFile(file, Start);
        await SetFile(md5Only, Start);
        await SetCertificate(cert, Start + 1);

        var both = await Updates($"{{\"sinceTime\":{Start}}}");
        Assert.Equal(new[] { (HashType.Sha1, file.Sha1!), (HashType.Md5, md5Only.Md5!) }, both.Files.Select(f => (f.HashType, f.Hash)));
        Assert.Equal(TieHashes.NormalizeHex(HashType.Sha1, cert), Assert.Single(both.Certificates).Hash);

        var sha256 = await Updates($"{{\"sinceTime\":{Start},\"targetTypes\":{{\"file\":\"sha256\"}}}}");
        Assert.Equal(new[] { file.Sha256, md5Only.Md5 }, sha256.Files.Select(f => f.Hash));
        Assert.Empty(sha256.Certificates);
        Assert.DoesNotContain("certificateHashes", (await Call(TieTopics.ReputationUpdates,
            Encoding.UTF8.GetBytes($"{{\"sinceTime\":{Start},\"targetTypes\":{{\"file\":\"md5\"}}}}"))).PayloadText);

        var certs = await Updates($"{{\"sinceTime\":{Start},\"targetTypes\":{{\"cert\":\"sha1\"}}}}");
        Assert.Empty(certs.Files);
        Assert.Single(certs.Certificates);
    }

    [Fact]
    public async Task TargetedListsWhatThisClientLookedUpOrWhatIsPrevalent()
    {
        var looked = TieEndToEndTests.NewFile();
        var other = TieEndToEndTests.NewFile();
        // Looked up by its MD5 before it existed: its SHA-1 is what the feed lists.
        await Call(TieTopics.FileReputation, TiePayloads.FileReputationRequest(TieHashes.FromHex(HashType.Md5, looked.Md5!)));
        await SetFile(looked, Start);
        await SetFile(other, Start);
        await SetFile(TieHashesTests.Notepad, Start); // seeded with an Enterprise prevalence of 17

        var mine = await Updates($"{{\"sinceTime\":{Start},\"targeted\":true}}");
        Assert.Equal(new[] { looked.Sha1, TieHashesTests.NotepadSha1 }, mine.Files.Select(f => f.Hash));
        var someoneElse = await Updates($"{{\"sinceTime\":{Start},\"targeted\":true}}", "{client-b}");
        Assert.Equal(new[] { TieHashesTests.NotepadSha1 }, someoneElse.Files.Select(f => f.Hash));
        Assert.Equal(3, (await Updates($"{{\"sinceTime\":{Start},\"targeted\":false}}", "{client-b}")).Count);
    }

    [Theory]
    [InlineData("{\"queryLimit\":0}", "queryLimit must be between 1 and 5000")]
    [InlineData("{\"queryLimit\":5001}", "queryLimit must be between 1 and 5000")]
    [InlineData("{\"sinceTime\":-1}", "Invalid sinceTime")]
    [InlineData("{\"sinceTime\":\"yesterday\"}", "Invalid sinceTime")]
    [InlineData("{\"targeted\":\"yes\"}", "Invalid targeted")]
    [InlineData("{\"targetTypes\":[]}", "Invalid targetTypes")]
    [InlineData("{\"targetTypes\":{}}", "Invalid targetTypes")]
    [InlineData("{\"targetTypes\":{\"file\":\"sha512\"}}", "Invalid targetTypes.file")]
    [InlineData("{\"targetTypes\":{\"cert\":\"md5\"}}", "Invalid targetTypes.cert")]
    public async Task ABadFieldIsAnErrorNamingIt(string json, string message)
    {
        var response = await Call(TieTopics.ReputationUpdates, Encoding.UTF8.GetBytes(json));
        var error = Assert.IsType<DxlErrorResponse>(response);
        Assert.Equal(0, error.ErrorCode);
        Assert.Contains(message, error.ErrorMessage);
    }

    [Fact]
    public async Task TheDefaultPageIsOneHundredAndTheLimitsAreInclusive()
    {
        for (var i = 0; i < 101; i++) await SetFile(TieEndToEndTests.NewFile(), Start);
        var page = await Updates("{}");
        Assert.Equal(100, page.Count);
        Assert.True(page.QueryLimitExceeded);
        Assert.Single((await Updates("{\"queryLimit\":1}")).Files);
        Assert.Equal(101, (await Updates("{\"queryLimit\":5000}")).Count);
    }

    [Fact]
    public async Task PastItsCapacityTheHistoryForgetsTheOldestChanges()
    {
        _sim.Store.Changes.Capacity = 3;
        var files = Enumerable.Range(0, 5).Select(_ => TieEndToEndTests.NewFile()).ToList();
        for (var i = 0; i < files.Count; i++) await SetFile(files[i], Start + i);
        Assert.Equal(3, _sim.Store.Changes.Count);
        Assert.Equal(2, _sim.Store.Changes.Forgotten);
        Assert.Equal(files.Skip(2).Select(f => f.Sha1), (await Updates("{\"sinceTime\":0}")).Files.Select(f => f.Hash));
        _sim.Store.Clear();
        Assert.Equal(0, (await Updates("{\"sinceTime\":0}")).Count);

        // A larger history is trimmed a sixteenth past its capacity, down to it.
        _sim.Store.Changes.Capacity = 32;
        for (var i = 0; i < 34; i++) await SetFile(TieEndToEndTests.NewFile(), Start + i);
        Assert.Equal(34, _sim.Store.Changes.Count);
        await SetFile(TieEndToEndTests.NewFile(), Start + 34);
        Assert.Equal(32, _sim.Store.Changes.Count);
        Assert.Equal(32, (await Updates("{\"sinceTime\":0}")).Count);
    }

    [Fact]
    public async Task AClockSetBackStillListsOldestFirst()
    {
        var late = TieEndToEndTests.NewFile();
        var early = TieEndToEndTests.NewFile();
        await SetFile(late, Start + 10);
        await SetFile(early, Start + 5);
        var reply = await Updates($"{{\"sinceTime\":{Start},\"queryLimit\":1}}");
        Assert.Equal(early.Sha1, Assert.Single(reply.Files).Hash);
        Assert.Equal(Start + 5, reply.LatestUpdateTime);
    }
}
