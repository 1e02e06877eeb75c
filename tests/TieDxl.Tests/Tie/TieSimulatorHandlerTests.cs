using System.Collections.Concurrent;
using System.Text;
using TieDxl.Dxl.Messages;
using TieDxl.Fabric.Simulator;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>The simulator's handlers called in-process (no broker): payload shapes, lookup rule, store updates, knobs.</summary>
public sealed class TieSimulatorHandlerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly ConcurrentQueue<DxlEvent> _events = new();
    private readonly TieSimulator _sim;

    public TieSimulatorHandlerTests()
    {
        _sim = new TieSimulator(new TieSimulatorOptions { Clock = () => Now }, (e, _) =>
        {
            _events.Enqueue(e);
            return Task.CompletedTask;
        });
    }

    private async Task<DxlResponse?> Call(string topic, byte[] payload)
    {
        var request = new DxlRequest(topic, payload) { ReplyToTopic = "/mcafee/client/{test}", SourceClientId = "{test}" };
        return await _sim.Service.Handlers[topic](request, CancellationToken.None);
    }

    private async Task<DxlResponse> Ok(string topic, byte[] payload)
    {
        var r = await Call(topic, payload);
        Assert.NotNull(r);
        Assert.IsNotType<DxlErrorResponse>(r);
        return r!;
    }

    private async Task<DxlErrorResponse> Error(string topic, byte[] payload)
    {
        var r = await Call(topic, payload);
        return Assert.IsType<DxlErrorResponse>(r);
    }

    private static byte[] Cert(string sha1, string? pk) =>
        TiePayloads.CertificateReputationRequest(TieHashes.ParseHex(HashType.Sha1, sha1), pk is null ? null : TieHashes.ParseHex(HashType.Sha1, pk));

    [Fact]
    public async Task NotepadHasGti99AndEnterpriseNotSetWithTheSpecShape()
    {
        var response = await Ok(TieTopics.FileReputation, TiePayloads.FileReputationRequest(Notepad));
        var text = response.PayloadText;
        Assert.StartsWith("{\"props\":{\"serverTime\":" + Now.ToUnixTimeSeconds() + ",\"submitMetaData\":1},\"reputations\":[", text);
        Assert.Contains("{\"attributes\":{\"2120340\":\"2139160704\"},\"createDate\":1451502875,\"providerId\":1,\"trustLevel\":99}", text);
        var r = TiePayloads.ParseFileReputation(response.Payload, Notepad);
        Assert.Equal(TrustLevel.KnownTrusted, r.Gti!.TrustLevel);
        Assert.Equal(TrustLevel.NotSet, r.Enterprise!.TrustLevel);
        Assert.Equal("17", r.Enterprise.GetAttribute(FileEnterpriseAttrib.Prevalence));
        Assert.Equal(Now, r.ServerTime);
    }

    [Fact]
    public async Task EicarAndUnknownFile()
    {
        var eicar = TiePayloads.ParseFileReputation((await Ok(TieTopics.FileReputation,
            TiePayloads.FileReputationRequest(TieHashes.Create(TieSimulatorSeed.EicarMd5)))).Payload, Notepad);
        Assert.Equal(TrustLevel.KnownMalicious, eicar.Gti!.TrustLevel);
        var unknown = TiePayloads.ParseFileReputation((await Ok(TieTopics.FileReputation,
            TiePayloads.FileReputationRequest(TieHashes.Create(sha256: TieSimulatorSeed.UnknownFileSha256)))).Payload, Notepad);
        Assert.Equal(TrustLevel.Unknown, unknown.Gti!.TrustLevel);
        Assert.False(unknown.HasDefinitiveNonExternalReputation);
    }

    [Fact]
    public async Task PartialAndExtendedHashSetsFindTheItem()
    {
        var sha1Only = TiePayloads.ParseFileReputation((await Ok(TieTopics.FileReputation,
            TiePayloads.FileReputationRequest(TieHashes.FromHex(NotepadSha1)))).Payload, Notepad);
        Assert.Equal(TrustLevel.KnownTrusted, sha1Only.Gti!.TrustLevel);
        // A known md5 plus a sha256 the store has never seen still finds notepad.
        var extended = TiePayloads.ParseFileReputation((await Ok(TieTopics.FileReputation,
            TiePayloads.FileReputationRequest(TieHashes.Create(NotepadMd5, sha256: new string('7', 64))))).Payload, Notepad);
        Assert.Equal(TrustLevel.KnownTrusted, extended.Gti!.TrustLevel);
    }

    [Fact]
    public async Task HashesOfDifferentItemsAreNotFound()
    {
        var e = await Error(TieTopics.FileReputation, TiePayloads.FileReputationRequest(TieHashes.Create(NotepadMd5, TieSimulatorSeed.EicarSha1)));
        Assert.Equal(0, e.ErrorCode);
        Assert.Equal("Could not find reputation", e.ErrorMessage);
    }

    [Fact]
    public async Task NeverSeenFileGetsAnEnterpriseNotSetEntryNotAnError()
    {
        var hashes = TieHashes.FromHex(new string('5', 64));
        var r = TiePayloads.ParseFileReputation((await Ok(TieTopics.FileReputation, TiePayloads.FileReputationRequest(hashes))).Payload, hashes);
        var rep = Assert.Single(r.Reputations);
        Assert.Equal(3, rep.ProviderId);
        Assert.Equal(TrustLevel.NotSet, rep.TrustLevel);
        Assert.Equal("0", rep.GetAttribute(FileEnterpriseAttrib.Prevalence));
        Assert.Null(_sim.Store.FindFile(hashes));
    }

    [Theory]
    [InlineData("{\"hashes\":[]}")]
    [InlineData("{}")]
    [InlineData("{\"hashes\":[{\"type\":\"md5\",\"value\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}]}")]
    [InlineData("{\"hashes\":[{\"type\":\"md5\",\"value\":\"AAEC\"}]}")]
    [InlineData("{\"hashes\":[{\"type\":\"md5\",\"value\":\"!!\"}]}")]
    public async Task EmptyOrInvalidHashesAreNotFound(string payload)
    {
        var e = await Error(TieTopics.FileReputation, Encoding.UTF8.GetBytes(payload));
        Assert.Equal("Could not find reputation", e.ErrorMessage);
        Assert.Equal(0, e.ErrorCode);
    }

    [Fact]
    public async Task GarbageIsAnInvalidPayloadError()
    {
        var e = await Error(TieTopics.FileReputation, Encoding.UTF8.GetBytes("nope"));
        Assert.StartsWith("Invalid request payload", e.ErrorMessage);
    }

    [Fact]
    public async Task SetFileReputationUpdatesTheStoreAndPublishesTheRepChange()
    {
        await Ok(TieTopics.FileReputationSet, TiePayloads.SetFileReputationRequest(Notepad, 85, "notepad.exe", "c"));
        var item = _sim.Store.FindFile(Notepad)!;
        Assert.Equal(85, item.GetReputation(3)!.TrustLevelValue);
        Assert.Equal(Now.ToUnixTimeSeconds(), item.GetReputation(3)!.CreateDateEpoch);
        Assert.Equal("17", item.GetReputation(3)!.RawAttributes["2101652"]);
        Assert.Equal(2, item.Reputations.Count);

        var evt = Assert.Single(_events);
        Assert.Equal(TieTopics.FileRepChangeBroadcast, evt.DestinationTopic);
        var change = TiePayloads.ParseFileReputationChange(evt.Payload);
        Assert.Equal(Notepad, change.Hashes);
        Assert.Equal(TrustLevel.NotSet, change.GetOld(3)!.TrustLevel);
        Assert.Equal(TrustLevel.MostLikelyTrusted, change.GetNew(3)!.TrustLevel);
        Assert.Equal(TrustLevel.KnownTrusted, change.GetNew(1)!.TrustLevel);
        Assert.Equal(Now, change.UpdateTime);
        Assert.Equal(TieSimulatorSeed.NotepadCertPublicKeySha1, change.Certificate!.PublicKeySha1);
        Assert.Contains("\"props\":{\"serverTime\":", evt.PayloadText);
    }

    [Fact]
    public async Task SetOnAnUnknownFileCreatesIt()
    {
        var hashes = TieHashes.Create(md5: new string('1', 32), sha1: new string('2', 40));
        await Ok(TieTopics.FileReputationSet, TiePayloads.SetFileReputationRequest(hashes, 1, "bad.exe", ""));
        var item = _sim.Store.FindFile(TieHashes.FromHex(new string('2', 40)))!;
        Assert.Equal("bad.exe", item.Name);
        Assert.Equal(TrustLevel.KnownMalicious, Assert.Single(item.Reputations).TrustLevel);
        var r = TiePayloads.ParseFileReputation((await Ok(TieTopics.FileReputation, TiePayloads.FileReputationRequest(hashes))).Payload, hashes);
        Assert.Equal(TrustLevel.KnownMalicious, r.Enterprise!.TrustLevel);
    }

    [Fact]
    public async Task SetMergesNewHashTypesIntoAKnownFile()
    {
        var hashes = TieHashes.Create(md5: TieSimulatorSeed.EicarMd5, sha256: null);
        var sha512less = hashes.With(HashType.Sha256, TieSimulatorSeed.EicarSha256);
        await Ok(TieTopics.FileReputationSet, TiePayloads.SetFileReputationRequest(sha512less, 1, "", ""));
        Assert.Equal(3, _sim.Store.FindFile(hashes)!.Hashes.Count);
    }

    [Fact]
    public async Task SetRejectsBadTrustLevelsAndProviders()
    {
        var bad = await Error(TieTopics.FileReputationSet, TiePayloads.SetFileReputationRequest(Notepad, 86, "", ""));
        Assert.Contains("trustLevel", bad.ErrorMessage);
        var wrongProvider = await Error(TieTopics.FileReputationSet,
            Encoding.UTF8.GetBytes("{\"trustLevel\":99,\"providerId\":1,\"hashes\":[{\"type\":\"md5\",\"value\":\"" + NotepadMd5B64 + "\"}]}"));
        Assert.Contains("providerId", wrongProvider.ErrorMessage);
        Assert.Empty(_events);
    }

    [Fact]
    public async Task CertificateLookupsWorkWithAndWithoutThePublicKey()
    {
        foreach (var pk in new[] { TieSimulatorSeed.Cert1PublicKeySha1, null })
        {
            var r = TiePayloads.ParseCertificateReputation((await Ok(TieTopics.CertReputation, Cert(TieSimulatorSeed.Cert1Sha1, pk))).Payload,
                TieSimulatorSeed.Cert1Sha1, pk);
            Assert.Equal(TrustLevel.KnownTrusted, r.Gti!.TrustLevel);
            Assert.Equal(TrustLevel.NotSet, r.Enterprise!.TrustLevel);
            Assert.Equal("1.4.0.190", r.Enterprise.Attributes.Single(a => a.Name == "ServerVersion").Decoded);
        }
        var advanced = TiePayloads.ParseCertificateReputation((await Ok(TieTopics.CertReputation, Cert(TieSimulatorSeed.Cert2Sha1, null))).Payload,
            TieSimulatorSeed.Cert2Sha1, null);
        Assert.Equal(2, advanced.Reputations.Count);
    }

    [Fact]
    public async Task ZeroCertificateHashesAreNotFound()
    {
        var e = await Error(TieTopics.CertReputation, Cert(new string('0', 40), new string('0', 40)));
        Assert.Equal("Could not find reputation", e.ErrorMessage);
    }

    [Fact]
    public async Task SetCertificateReputationPublishesTheCertRepChange()
    {
        await Ok(TieTopics.CertReputationSet, TiePayloads.SetCertificateReputationRequest(
            TieHashes.ParseHex(HashType.Sha1, TieSimulatorSeed.Cert1Sha1), TieHashes.ParseHex(HashType.Sha1, TieSimulatorSeed.Cert1PublicKeySha1), 85, "x"));
        Assert.Equal(85, _sim.Store.FindCertificate(TieSimulatorSeed.Cert1Sha1)!.GetReputation(4)!.TrustLevelValue);
        var evt = Assert.Single(_events);
        Assert.Equal(TieTopics.CertRepChangeBroadcast, evt.DestinationTopic);
        var change = TiePayloads.ParseCertificateReputationChange(evt.Payload);
        Assert.Equal(TieSimulatorSeed.Cert1Sha1, change.Sha1);
        Assert.Equal(TieSimulatorSeed.Cert1PublicKeySha1, change.PublicKeySha1);
        Assert.Equal(TrustLevel.NotSet, change.GetOld(4)!.TrustLevel);
        Assert.Equal(TrustLevel.MostLikelyTrusted, change.GetNew(4)!.TrustLevel);
    }

    [Fact]
    public async Task FirstReferencesHonourQueryLimitAndReportTotalCount()
    {
        var all = TiePayloads.ParseFirstReferences((await Ok(TieTopics.FileAgents, TiePayloads.FileFirstReferencesRequest(Notepad, 500))).Payload);
        Assert.Equal(3, all.TotalCount);
        Assert.Equal(new[] { TieSimulatorSeed.Agent1, TieSimulatorSeed.Agent2, TieSimulatorSeed.Agent3 }, all.Agents.Select(a => a.AgentGuid));
        Assert.Equal(1475873692, all.Agents[0].DateEpoch);

        var two = TiePayloads.ParseFirstReferences((await Ok(TieTopics.FileAgents, TiePayloads.FileFirstReferencesRequest(Notepad, 2))).Payload);
        Assert.Equal(3, two.TotalCount);
        Assert.Equal(2, two.Agents.Count);
        Assert.True(two.IsTruncated);

        var eicar = TiePayloads.ParseFirstReferences((await Ok(TieTopics.FileAgents,
            TiePayloads.FileFirstReferencesRequest(TieHashes.FromHex(TieSimulatorSeed.EicarMd5), 500))).Payload);
        Assert.Equal(0, eicar.TotalCount);
        Assert.Empty(eicar.Agents);

        var cert = TiePayloads.ParseFirstReferences((await Ok(TieTopics.CertAgents, TiePayloads.CertificateFirstReferencesRequest(
            TieHashes.ParseHex(HashType.Sha1, TieSimulatorSeed.Cert2Sha1), null, 500))).Payload);
        Assert.Equal(new[] { TieSimulatorSeed.Agent1, TieSimulatorSeed.Agent3 }, cert.Agents.Select(a => a.AgentGuid));

        var bad = await Error(TieTopics.FileAgents, Encoding.UTF8.GetBytes("{\"queryLimit\":0,\"hashes\":[{\"type\":\"md5\",\"value\":\"" + NotepadMd5B64 + "\"}]}"));
        Assert.Contains("queryLimit", bad.ErrorMessage);
    }

    [Fact]
    public async Task FirstReferencesOfUnknownFilesAreADeterministicFunctionOfTheHash()
    {
        var seen = new HashSet<int>();
        for (var i = 0; i < 16; i++)
        {
            var hashes = TieHashes.FromHex(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(new[] { (byte)i })));
            var a = TiePayloads.ParseFirstReferences((await Ok(TieTopics.FileAgents, TiePayloads.FileFirstReferencesRequest(hashes, 500))).Payload);
            var b = TiePayloads.ParseFirstReferences((await Ok(TieTopics.FileAgents, TiePayloads.FileFirstReferencesRequest(hashes, 500))).Payload);
            Assert.Equal(a.Agents.Select(x => x.AgentGuid + x.DateEpoch), b.Agents.Select(x => x.AgentGuid + x.DateEpoch));
            Assert.Equal(a.TotalCount, a.Agents.Count);
            Assert.All(a.Agents, x => Assert.Matches("^\\{[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\\}$", x.AgentGuid));
            seen.Add(a.Agents.Count);
        }
        Assert.True(seen.Count > 1, "agent counts vary with the hash");
    }

    private Task External(TieHashes hashes, int trust, string? filename) =>
        _sim.ProcessExternalReportAsync(new DxlEvent(TieTopics.ExternalFileReport,
            TiePayloads.ExternalFileReportEvent(hashes, trust, (long)FileType.PeExe, filename, "c")));

    [Fact]
    public async Task ExternalReportsAreStoredAsProvider15AndBroadcast()
    {
        await External(TieHashes.Create(TieSimulatorSeed.UnknownFileMd5, TieSimulatorSeed.UnknownFileSha1, TieSimulatorSeed.UnknownFileSha256),
            (int)TrustLevel.MightBeTrusted, "random.exe");
        Assert.Equal(1, _sim.ExternalReportsAccepted);
        var item = _sim.Store.FindFile(TieHashes.FromHex(TieSimulatorSeed.UnknownFileMd5))!;
        Assert.Equal(70, item.GetReputation(15)!.TrustLevelValue);
        var change = TiePayloads.ParseFileReputationChange(Assert.Single(_events).Payload);
        Assert.Null(change.GetOld(15));
        Assert.Equal(TrustLevel.MightBeTrusted, change.GetNew(15)!.TrustLevel);
    }

    [Fact]
    public async Task ExternalReportOnAnUnknownFileCreatesItAndNotSetIsAccepted()
    {
        var hashes = TieHashes.FromHex(new string('e', 64));
        await External(hashes, 0, "x.exe");
        var item = _sim.Store.FindFile(hashes)!;
        Assert.Equal("x.exe", item.Name);
        Assert.Equal(0, item.GetReputation(15)!.TrustLevelValue);
    }

    [Fact]
    public async Task ExternalReportWithoutHashesFallsBackToTheFileName()
    {
        var payload = Encoding.UTF8.GetBytes("{\"file\":{\"type\":18,\"hashes\":{},\"attributes\":{\"filename\":\"notepad.exe\"},\"reputation\":{\"score\":99}},\"provider\":{\"id\":15},\"comment\":\"\"}");
        await _sim.ProcessExternalReportAsync(new DxlEvent(TieTopics.ExternalFileReport, payload));
        Assert.Equal(99, _sim.Store.FindFile(Notepad)!.GetReputation(15)!.TrustLevelValue);
    }

    [Theory]
    [InlineData("{\"file\":{\"hashes\":{},\"attributes\":{\"filename\":\"nobody.exe\"},\"reputation\":{\"score\":99}}}", "nobody.exe")]
    [InlineData("{\"file\":{\"hashes\":{\"md5\":\"f2c7bb8acc97f92e987a2d4087d021b1\"},\"reputation\":{\"score\":98}}}", "98")]
    [InlineData("{\"file\":{\"hashes\":{\"md5\":\"f2c7bb8acc97f92e987a2d4087d021b1\"},\"reputation\":{\"score\":99}},\"provider\":{\"id\":3}}", "provider")]
    [InlineData("[]", "object")]
    [InlineData("{", "malformed")]
    public async Task BadExternalReportsAreCountedNotApplied(string payload, string reason)
    {
        await _sim.ProcessExternalReportAsync(new DxlEvent(TieTopics.ExternalFileReport, Encoding.UTF8.GetBytes(payload)));
        Assert.Equal(1, _sim.ExternalReportsRejected);
        Assert.Contains(reason, _sim.LastExternalReportRejection);
        Assert.Null(_sim.Store.FindFile(Notepad)!.GetReputation(15));
        Assert.Empty(_events);
    }

    [Fact]
    public async Task NoReplyAndErrorModes()
    {
        _sim.Mode = TieSimulatorMode.NoReply;
        Assert.Null(await Call(TieTopics.FileReputation, TiePayloads.FileReputationRequest(Notepad)));
        _sim.Mode = TieSimulatorMode.Error;
        _sim.ErrorCode = 0x80000001;
        _sim.ErrorMessage = "unable to locate service for request";
        var e = await Error(TieTopics.CertAgents, Cert(TieSimulatorSeed.Cert1Sha1, null));
        Assert.Equal(0x80000001u, e.Code);
        _sim.Mode = TieSimulatorMode.Normal;
        await Ok(TieTopics.FileReputation, TiePayloads.FileReputationRequest(Notepad));
        Assert.Equal(3, _sim.RequestCount);
    }

    [Fact]
    public async Task ResponseDelayIsApplied()
    {
        _sim.ResponseDelay = TimeSpan.FromMilliseconds(60);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Ok(TieTopics.FileReputation, TiePayloads.FileReputationRequest(Notepad))));
        Assert.InRange(sw.ElapsedMilliseconds, 55, 2000); // concurrent: not 20 × 60 ms
    }

    [Fact]
    public async Task ServerEventsHaveTheSpecShapes()
    {
        await _sim.PublishDetectionAsync(Notepad, TieSimulatorSeed.Agent1, "FOCUS_MALWARE2.EXE");
        await _sim.PublishFirstInstanceAsync(Notepad, TieSimulatorSeed.Agent2, "MORPH.EXE");
        await _sim.PublishPrevalenceAsync(Notepad, TieSimulatorSeed.Agent3, "notepad.exe", 3, true);
        var events = _events.ToArray();
        var d = TiePayloads.ParseFileDetection(events[0].Payload);
        Assert.Equal(Notepad, d.Hashes);
        Assert.Equal(5, d.RemediationAction);
        Assert.Equal(TrustLevel.KnownMalicious, d.LocalReputation);
        Assert.Equal(Now, d.DetectionTime);
        Assert.Equal("MORPH.EXE", TiePayloads.ParseFileFirstInstance(events[1].Payload).Name);
        Assert.True(TiePayloads.ParseFilePrevalence(events[2].Payload).Prevalent);
        Assert.Equal(new[] { TieTopics.FileDetection, TieTopics.FileFirstInstance, TieTopics.FilePrevalence }, events.Select(e => e.DestinationTopic));
    }

    [Fact]
    public void SeedFileLoadsFilesAndCertificates()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """
                {
                  // comments are allowed
                  "files": [ { "name": "tool.exe", "hashes": { "SHA256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1" },
                               "reputations": [ { "providerId": 3, "trustLevel": 15, "createDate": 10, "attributes": { "2101652": 4 } } ],
                               "agents": [ { "agentGuid": "{a}", "date": 5 } ] } ],
                  "certificates": [ { "name": "c", "sha1": "1111111111111111111111111111111111111111", "reputations": [ { "providerId": 4, "trustLevel": 99 } ] } ],
                }
                """);
            var sim = new TieSimulator(new TieSimulatorOptions { SeedFile = path }, (_, _) => Task.CompletedTask);
            Assert.Equal(4, sim.Store.FileCount);
            Assert.Equal(3, sim.Store.CertificateCount);
            var tool = sim.Store.FindFile(TieHashes.FromHex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"))!;
            Assert.Equal("tool.exe", tool.Name);
            Assert.Equal("4", tool.GetReputation(3)!.RawAttributes["2101652"]);
            Assert.Equal("{a}", Assert.Single(tool.Agents).AgentGuid);
            Assert.NotNull(sim.Store.FindCertificate("1111111111111111111111111111111111111111"));

            var empty = new TieSimulator(new TieSimulatorOptions { SeedFile = path, UseBuiltInSeed = false }, (_, _) => Task.CompletedTask);
            Assert.Equal(1, empty.Store.FileCount);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BuiltInSeedHoldsTheSpecItems()
    {
        var store = TieReputationStore.CreateSeeded();
        Assert.Equal(3, store.FileCount);
        Assert.Equal(2, store.CertificateCount);
        Assert.Equal("notepad.exe", store.FindFile(Notepad)!.Name);
        Assert.Equal("EICAR", store.FindFileByName("eicar")!.Name);
        Assert.Equal("cert1", store.FindCertificate(null, TieSimulatorSeed.Cert1PublicKeySha1)!.Name);
    }
}
