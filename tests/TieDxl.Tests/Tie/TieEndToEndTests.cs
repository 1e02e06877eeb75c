using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using TieDxl.Dxl.Client;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>A real mosquitto (mutual TLS) with the TIE simulator hosted on one DXL client. One per test class.</summary>
public sealed class TieSimulatorFixture : IAsyncLifetime
{
    public MosquittoEnvironment Env { get; } = new();
    public DxlClient ServiceClient { get; private set; } = null!;
    public TieSimulator Simulator { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ServiceClient = await Env.ConnectAsync();
        Simulator = new TieSimulator(ServiceClient);
        await Simulator.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Simulator.DisposeAsync();
        await ServiceClient.DisposeAsync();
        Env.Dispose();
    }
}

/// <summary>Every TIE operation through TieClient → DxlClient → mosquitto → DxlClient → TieSimulator and back.</summary>
public sealed class TieEndToEndTests(TieSimulatorFixture fx) : IClassFixture<TieSimulatorFixture>, IAsyncLifetime
{
    private DxlClient _dxl = null!;
    private TieClient _tie = null!;

    public async Task InitializeAsync()
    {
        _dxl = await fx.Env.ConnectAsync();
        _tie = new TieClient(_dxl) { DefaultTimeout = TimeSpan.FromSeconds(10) };
        fx.Simulator.Mode = TieSimulatorMode.Normal;
        fx.Simulator.ResponseDelay = TimeSpan.Zero;
    }

    public async Task DisposeAsync()
    {
        fx.Simulator.Mode = TieSimulatorMode.Normal;
        fx.Simulator.ResponseDelay = TimeSpan.Zero;
        await _dxl.DisposeAsync();
    }

    /// <summary>Fresh random hashes nobody else uses.</summary>
    internal static TieHashes NewFile()
    {
        var data = RandomNumberGenerator.GetBytes(32);
        return TieHashes.Create(Convert.ToHexString(MD5.HashData(data)), Convert.ToHexString(SHA1.HashData(data)), Convert.ToHexString(SHA256.HashData(data)));
    }

    private static string NewSha1() => Convert.ToHexString(RandomNumberGenerator.GetBytes(20));

    private static async Task<T> Within<T>(Task<T> task, int ms = 10_000)
    {
        var done = await Task.WhenAny(task, Task.Delay(ms));
        Assert.True(done == task, "timed out waiting");
        return await task;
    }

    [Fact]
    public async Task GetFileReputationOfTheSeededFiles()
    {
        var notepad = await _tie.GetFileReputationAsync(Notepad);
        Assert.Equal(TrustLevel.KnownTrusted, notepad.Gti!.TrustLevel);
        Assert.Equal(TrustLevel.NotSet, notepad.Enterprise!.TrustLevel);
        Assert.Equal("2139160704", notepad.Gti.GetAttribute(GtiAttrib.OriginalResponse));
        Assert.NotNull(notepad.ServerTime);
        Assert.True(notepad.HasDefinitiveNonExternalReputation);

        var eicar = await _tie.GetFileReputationAsync(TieHashes.Create(TieSimulatorSeed.EicarMd5, TieSimulatorSeed.EicarSha1, TieSimulatorSeed.EicarSha256));
        Assert.Equal(TrustLevel.KnownMalicious, eicar.Gti!.TrustLevel);
        Assert.Equal(TrustLevel.NotSet, eicar.Enterprise!.TrustLevel);
        Assert.Equal(TrustLevel.KnownMalicious, eicar.EffectiveTrustLevel);

        var partial = await _tie.GetFileReputationAsync(TieHashes.FromHex(NotepadSha256.ToUpperInvariant()));
        Assert.Equal(TrustLevel.KnownTrusted, partial.Gti!.TrustLevel);
    }

    [Fact]
    public async Task ZeroHashesAreNotFound()
    {
        var zero = TieHashes.Create(new string('0', 32), new string('0', 40), new string('0', 64));
        var ex = await Assert.ThrowsAsync<TieNotFoundException>(() => _tie.GetFileReputationAsync(zero));
        Assert.Contains("Could not find reputation", ex.Message);
        await Assert.ThrowsAsync<TieNotFoundException>(() => _tie.GetCertificateReputationAsync(new string('0', 40), new string('0', 40)));
        await Assert.ThrowsAsync<TieNotFoundException>(() => _tie.GetFileFirstReferencesAsync(zero));
    }

    [Fact]
    public async Task NeverSeenFileIsAnEnterpriseNotSetAnswer()
    {
        var r = await _tie.GetFileReputationAsync(NewFile());
        Assert.Equal(3, Assert.Single(r.Reputations).ProviderId);
        Assert.False(r.HasDefinitiveNonExternalReputation);
    }

    [Fact]
    public async Task SetFileReputationIsVisibleInLookupsAndBroadcast()
    {
        var file = NewFile();
        var changes = new ConcurrentQueue<FileReputationChangeEvent>();
        var got = new TaskCompletionSource<FileReputationChangeEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (await _tie.SubscribeFileReputationChangeAsync(e =>
                     {
                         if (e.Hashes.Equals(file)) got.TrySetResult(e);
                         return Task.CompletedTask;
                     }))
        {
            await _tie.SetFileReputationAsync(file, TrustLevel.MostLikelyTrusted, "tool.exe", "set by test");
            var change = await Within(got.Task);
            Assert.Null(change.GetOld(3));
            Assert.Equal(TrustLevel.MostLikelyTrusted, change.GetNew(3)!.TrustLevel);
            Assert.NotNull(change.UpdateTime);
        }

        var r = await _tie.GetFileReputationAsync(file);
        Assert.Equal(TrustLevel.MostLikelyTrusted, r.Enterprise!.TrustLevel);
        Assert.Equal("tool.exe", fx.Simulator.Store.FindFile(file)!.Name);
    }

    [Fact]
    public async Task SeedWorkflowSetExternalReputation()
    {
        // The OpenDXL sample's rule: notepad already has a definitive reputation (GTI 99) → abort.
        Assert.True((await _tie.GetFileReputationAsync(Notepad)).HasDefinitiveNonExternalReputation);

        // A file nobody has a verdict on → send the External report, then see provider 15 in lookups.
        var file = NewFile();
        var before = await _tie.GetFileReputationAsync(file);
        Assert.False(before.HasDefinitiveNonExternalReputation);
        var got = new TaskCompletionSource<FileReputationChangeEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sub = await _tie.SubscribeFileReputationChangeAsync(e =>
        {
            if (e.Hashes.Equals(file)) got.TrySetResult(e);
            return Task.CompletedTask;
        });
        await _tie.SetExternalFileReputationAsync(file, TrustLevel.MightBeTrusted, FileType.PeExe, "random.exe", "External Reputation set via OpenDXL");
        var change = await Within(got.Task);
        Assert.Equal(TrustLevel.MightBeTrusted, change.GetNew(15)!.TrustLevel);

        var after = await _tie.GetFileReputationAsync(file);
        Assert.Equal(TrustLevel.MightBeTrusted, after.External!.TrustLevel);
        Assert.Equal("External", after.External.ProviderName);
        Assert.False(after.HasDefinitiveNonExternalReputation);
    }

    [Fact]
    public async Task ExternalReportCanBeVerifiedByLookups()
    {
        var file = NewFile();
        var notYet = await _tie.VerifyExternalFileReputationAsync(file, TrustLevel.KnownMalicious, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(50));
        Assert.False(notYet.Applied);
        Assert.True(notYet.Lookups >= 2);
        Assert.NotNull(notYet.LastResult);

        await _tie.SetExternalFileReputationAsync(file, TrustLevel.KnownMalicious, FileType.PeExe, "bad.exe");
        var verified = await _tie.VerifyExternalFileReputationAsync(file, TrustLevel.KnownMalicious, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        Assert.True(verified.Applied);
        Assert.Equal(TrustLevel.KnownMalicious, verified.LastResult!.External!.TrustLevel);
    }

    [Fact]
    public async Task ExternalReportWithNotSetIsAccepted()
    {
        var file = NewFile();
        var accepted = fx.Simulator.ExternalReportsAccepted;
        await _tie.SetExternalFileReputationAsync(file, TrustLevel.NotSet, FileType.Dll, "lib.dll");
        await DxlWait(() => fx.Simulator.Store.FindFile(file)?.GetReputation(15) is not null);
        Assert.Equal(TrustLevel.NotSet, (await _tie.GetFileReputationAsync(file)).External!.TrustLevel);
        Assert.True(fx.Simulator.ExternalReportsAccepted > accepted);
    }

    private static async Task DxlWait(Func<bool> condition, int ms = 10_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.ElapsedMilliseconds < ms, "condition not met in time");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task CertificateReputationWithAndWithoutPublicKey()
    {
        var withKey = await _tie.GetCertificateReputationAsync(TieSimulatorSeed.Cert1Sha1, TieSimulatorSeed.Cert1PublicKeySha1);
        Assert.Equal(TrustLevel.KnownTrusted, withKey.Gti!.TrustLevel);
        Assert.Equal(TrustLevel.NotSet, withKey.Enterprise!.TrustLevel);
        Assert.Equal(TieSimulatorSeed.Cert1PublicKeySha1, withKey.PublicKeySha1);

        var withoutKey = await _tie.GetCertificateReputationAsync(TieSimulatorSeed.Cert2Sha1.ToUpperInvariant());
        Assert.Equal(TrustLevel.KnownTrusted, withoutKey.Gti!.TrustLevel);
        Assert.Equal(TieSimulatorSeed.Cert2Sha1, withoutKey.Sha1);
    }

    [Fact]
    public async Task SetCertificateReputationIsVisibleAndBroadcast()
    {
        var sha1 = NewSha1();
        var pk = NewSha1();
        var got = new TaskCompletionSource<CertificateReputationChangeEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sub = await _tie.SubscribeCertificateReputationChangeAsync(e =>
        {
            if (string.Equals(e.Sha1, sha1, StringComparison.OrdinalIgnoreCase)) got.TrySetResult(e);
            return Task.CompletedTask;
        });
        await _tie.SetCertificateReputationAsync(sha1, TrustLevel.MostLikelyMalicious, pk, "cert by test");
        var change = await Within(got.Task);
        Assert.Equal(pk.ToLowerInvariant(), change.PublicKeySha1);
        Assert.Equal(TrustLevel.MostLikelyMalicious, change.GetNew(4)!.TrustLevel);

        var r = await _tie.GetCertificateReputationAsync(sha1, pk);
        Assert.Equal(TrustLevel.MostLikelyMalicious, r.Enterprise!.TrustLevel);
        var byKeyOnlyAndSha1 = await _tie.GetCertificateReputationAsync(sha1);
        Assert.Equal(TrustLevel.MostLikelyMalicious, byKeyOnlyAndSha1.Enterprise!.TrustLevel);
    }

    [Fact]
    public async Task FirstReferencesOfFilesAndCertificates()
    {
        var guids = new[] { TieSimulatorSeed.Agent1, TieSimulatorSeed.Agent2, TieSimulatorSeed.Agent3 };
        var file = await _tie.GetFileFirstReferencesAsync(Notepad);
        Assert.Equal(3, file.TotalCount);
        Assert.All(file.Agents, a => Assert.Contains(a.AgentGuid, guids));
        Assert.Equal(Notepad, file.Hashes);

        var capped = await _tie.GetFileFirstReferencesAsync(Notepad, queryLimit: 1);
        Assert.Single(capped.Agents);
        Assert.True(capped.IsTruncated);

        var cert = await _tie.GetCertificateFirstReferencesAsync(TieSimulatorSeed.Cert1Sha1, TieSimulatorSeed.Cert1PublicKeySha1);
        Assert.Equal(3, cert.Agents.Count);
        Assert.All(cert.Agents, a => Assert.Contains(a.AgentGuid, guids));
        Assert.Equal(TieSimulatorSeed.Cert1Sha1, cert.Hashes!.Sha1);

        var unknown = NewFile();
        var a1 = await _tie.GetFileFirstReferencesAsync(unknown);
        var a2 = await _tie.GetFileFirstReferencesAsync(unknown);
        Assert.Equal(a1.Agents.Select(a => a.AgentGuid), a2.Agents.Select(a => a.AgentGuid));
    }

    [Fact]
    public async Task DetectionFirstInstanceAndPrevalenceEvents()
    {
        var detections = new TaskCompletionSource<FileDetectionEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var firsts = new TaskCompletionSource<FileFirstInstanceEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var prevalence = new TaskCompletionSource<FilePrevalenceEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var s1 = await _tie.SubscribeFileDetectionAsync(e => { detections.TrySetResult(e); return Task.CompletedTask; });
        await using var s2 = await _tie.SubscribeFileFirstInstanceAsync(e => { firsts.TrySetResult(e); return Task.CompletedTask; });
        await using var s3 = await _tie.SubscribeFilePrevalenceAsync(e => { prevalence.TrySetResult(e); return Task.CompletedTask; });

        await fx.Simulator.PublishDetectionAsync(Notepad, TieSimulatorSeed.Agent1, "FOCUS_MALWARE2.EXE");
        await fx.Simulator.PublishFirstInstanceAsync(Notepad, TieSimulatorSeed.Agent2, "MORPH.EXE");
        await fx.Simulator.PublishPrevalenceAsync(Notepad, TieSimulatorSeed.Agent3, "notepad.exe", 4, true);

        var d = await Within(detections.Task);
        Assert.Equal("FOCUS_MALWARE2.EXE", d.Name);
        Assert.Equal(Notepad, d.Hashes);
        Assert.Equal(TieTopics.FileDetection, d.Topic);
        Assert.Contains("FOCUS_MALWARE2.EXE", d.RawJson);
        Assert.Equal("MORPH.EXE", (await Within(firsts.Task)).Name);
        var p = await Within(prevalence.Task);
        Assert.Equal(4, p.EnterpriseCount);
        Assert.True(p.Prevalent);
    }

    [Fact]
    public async Task DisposingASubscriptionStopsItsEvents()
    {
        var count = 0;
        var sub = await _tie.SubscribeFileFirstInstanceAsync(_ => { Interlocked.Increment(ref count); return Task.CompletedTask; });
        var probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var other = await _tie.SubscribeFileFirstInstanceAsync(_ => { probe.TrySetResult(); return Task.CompletedTask; });
        await fx.Simulator.PublishFirstInstanceAsync(Notepad, TieSimulatorSeed.Agent1, "one");
        await Within(probe.Task.ContinueWith(_ => true));
        await DxlWait(() => Volatile.Read(ref count) == 1);

        await sub.DisposeAsync();
        probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await fx.Simulator.PublishFirstInstanceAsync(Notepad, TieSimulatorSeed.Agent1, "two");
        // The other subscription on the same topic still gets events (reference-counted unsubscribe).
        await Within(probe.Task.ContinueWith(_ => true));
        await Task.Delay(100);
        Assert.Equal(1, Volatile.Read(ref count));
    }

    [Fact]
    public async Task MalformedEventsAreReportedNotThrown()
    {
        var errors = new TaskCompletionSource<TieEventErrorEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        _tie.EventError += (_, e) => errors.TrySetResult(e);
        await using var sub = await _tie.SubscribeFileDetectionAsync(_ => Task.CompletedTask);
        await fx.ServiceClient.SendEventAsync(new TieDxl.Dxl.Messages.DxlEvent(TieTopics.FileDetection, "{\"hashes\":5}"u8.ToArray()));
        var e = await Within(errors.Task);
        Assert.IsType<TieMalformedResponseException>(e.Error);
        Assert.Equal(TieTopics.FileDetection, e.Topic);
    }

    [Fact]
    public async Task NoReplyIsATimeoutWithTheAuthorisationHint()
    {
        fx.Simulator.Mode = TieSimulatorMode.NoReply;
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<TieTimeoutException>(() => _tie.SetFileReputationAsync(Notepad, TrustLevel.KnownTrusted, timeout: TimeSpan.FromMilliseconds(300)));
        Assert.InRange(sw.ElapsedMilliseconds, 250, 5000);
        Assert.Contains("TIE Server Set Enterprise Reputation", ex.Message);
        Assert.Equal(TimeSpan.FromMilliseconds(300), ex.Timeout);
        Assert.Equal(0, _dxl.PendingRequestCount);
    }

    [Fact]
    public async Task CancellationStopsAWaitingCall()
    {
        fx.Simulator.Mode = TieSimulatorMode.NoReply;
        using var cts = new CancellationTokenSource(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _tie.GetFileReputationAsync(Notepad, cancellationToken: cts.Token));
    }

    [Fact]
    public async Task ErrorResponsesMapToTheirKinds()
    {
        fx.Simulator.Mode = TieSimulatorMode.Error;
        fx.Simulator.ErrorCode = 0x80000001;
        fx.Simulator.ErrorMessage = "unable to locate service for request";
        await Assert.ThrowsAsync<TieServiceUnavailableException>(() => _tie.GetFileReputationAsync(Notepad));

        fx.Simulator.ErrorCode = 0;
        fx.Simulator.ErrorMessage = "Could not find reputation";
        await Assert.ThrowsAsync<TieNotFoundException>(() => _tie.GetCertificateReputationAsync(TieSimulatorSeed.Cert1Sha1));

        fx.Simulator.ErrorMessage = "database is on fire";
        var other = await Assert.ThrowsAsync<TieServiceErrorException>(() => _tie.GetFileFirstReferencesAsync(Notepad));
        Assert.Equal("database is on fire", other.ServiceMessage);

        fx.Simulator.Mode = TieSimulatorMode.Garbage;
        var bad = await Assert.ThrowsAsync<TieMalformedResponseException>(() => _tie.GetFileReputationAsync(Notepad));
        Assert.Equal("<html>not json</html>", bad.Payload);
        // A set ignores the reply payload: garbage is fine there.
        await _tie.SetFileReputationAsync(NewFile(), TrustLevel.KnownTrusted);
    }

    [Fact]
    public async Task ThousandsOfConcurrentLookupsWithAResponseDelay()
    {
        fx.Simulator.ResponseDelay = TimeSpan.FromMilliseconds(5);
        var files = new[]
        {
            Notepad,
            TieHashes.FromHex(TieSimulatorSeed.EicarSha1),
            TieHashes.FromHex(TieSimulatorSeed.UnknownFileMd5),
            NewFile(),
        };
        const int total = 2000;
        var next = -1;
        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 64).Select(async _ =>
        {
            var ok = 0;
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= total) return ok;
                var r = await _tie.GetFileReputationAsync(files[i % files.Length]);
                if (r.Reputations.Count > 0) ok++;
            }
        }).ToArray();
        var done = (await Task.WhenAll(workers)).Sum();
        sw.Stop();
        Assert.Equal(total, done);
        // 64 in flight × 5 ms delay: far faster than one at a time (2000 × 5 ms = 10 s) even on a busy 2-core box.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8), $"{total} lookups took {sw.Elapsed}");
        Assert.Equal(0, _dxl.PendingRequestCount);
    }
}
