using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TieDxl.Dxl.Client;
using TieDxl.Fabric.Simulator;
using TieDxl.Tie;

namespace TieDxl.Tests.Tie;

/// <summary>The journal format alone: writing, reading, torn lines, files that are not journals, the undo plan.</summary>
public sealed class TieJournalFormatTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tiedxl-journal-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TieJournalEntry Entry(string sha256, TieJournalStatus status, DateTimeOffset time, Guid? id = null) => new()
    {
        Time = time, OperationId = id ?? Guid.NewGuid(), Subject = TieJournalSubject.File, Sha256 = sha256, ProviderId = 3,
        TrustLevelBefore = TrustLevel.NotSet, TrustLevelRequested = TrustLevel.KnownMalicious, Status = status,
    };

    private static string NewSha256() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    [Fact]
    public void LinesAreWrittenFlushedAndReadBackWithTheFormatMarkerFirst()
    {
        var path = Path.Combine(_folder, "j.jsonl");
        using (var writer = TieJournalWriter.Open(path))
        {
            Assert.False(File.Exists(path)); // created by the first line only
            writer.Append(Entry(NewSha256(), TieJournalStatus.Pending, DateTimeOffset.UtcNow) with { Comment = "a", Name = "x.exe", ClientId = "{c}" });
            // Readable while the writer holds it open, and complete without Dispose: each line is flushed as written.
            Assert.Single(TieJournal.Read(path));
            writer.Append(Entry(NewSha256(), TieJournalStatus.Sent, DateTimeOffset.UtcNow) with { TrustLevelAfter = TrustLevel.KnownMalicious });
        }
        var lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("{\"format\":\"TieDxl.Journal\",\"version\":1,", l));
        using var json = JsonDocument.Parse(lines[1]);
        Assert.Equal("Enterprise", json.RootElement.GetProperty("provider").GetString());
        Assert.Equal("KnownMalicious", json.RootElement.GetProperty("trustLevelAfter").GetString());
        Assert.Equal("NotSet", json.RootElement.GetProperty("trustLevelBefore").GetString());
        var entries = TieJournal.Read(path);
        Assert.Equal(TieJournalStatus.Pending, entries[0].Status);
        Assert.Equal("x.exe", entries[0].Name);
        Assert.Equal(TrustLevel.KnownMalicious, entries[1].TrustLevelAfter);
        Assert.Equal(2, entries[1].LineNumber);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void ATornLastLineIsIgnoredWithAWarningAndTheNextRunStartsOnANewLine()
    {
        var path = Path.Combine(_folder, "torn.jsonl");
        using (var writer = TieJournalWriter.Open(path)) writer.Append(Entry(NewSha256(), TieJournalStatus.Sent, DateTimeOffset.UtcNow));
        var whole = File.ReadAllText(path);
        File.AppendAllText(path, whole[..(whole.Length / 2)]); // a second line cut off in the middle

        var warnings = new List<string>();
        Assert.Single(TieJournal.Read(path, warnings.Add));
        var warning = Assert.Single(warnings);
        Assert.Contains(path, warning);
        Assert.Contains("line 2", warning);

        using (var writer = TieJournalWriter.Open(path)) writer.Append(Entry(NewSha256(), TieJournalStatus.Sent, DateTimeOffset.UtcNow));
        warnings.Clear();
        Assert.Equal(2, TieJournal.Read(path, warnings.Add).Count);
        Assert.Single(warnings); // the torn line, now in the middle, is still recognised and skipped
    }

    [Fact]
    public void AFileThatIsNotAJournalIsRejectedByNameAndLeftAsItIs()
    {
        var path = Path.Combine(_folder, "notes.txt");
        File.WriteAllText(path, "shopping list\nmilk\n");
        var read = Assert.Throws<TieJournalException>(() => TieJournal.Read(path));
        Assert.Contains(path, read.Message);
        Assert.Contains("is not a TieDxl journal", read.Message);
        Assert.False(read.IsWriteFailure);
        var open = Assert.Throws<TieJournalException>(() => TieJournalWriter.Open(path));
        Assert.Contains("is not a TieDxl journal", open.Message);
        Assert.Equal("shopping list\nmilk\n", File.ReadAllText(path));

        File.WriteAllText(path, "{\"name\":\"some other json\"}\n");
        Assert.Throws<TieJournalException>(() => TieJournal.Read(path));
        Assert.Throws<TieJournalException>(() => TieJournalWriter.Open(Path.Combine(_folder, "missing", "j.jsonl")));
        Assert.Throws<TieJournalException>(() => TieJournalWriter.Open(_folder));
    }

    [Fact]
    public void TheUndoPlanTakesSentAndUnfinishedChangesNewestFirstGroupedPerReputation()
    {
        var t0 = DateTimeOffset.UtcNow;
        var a = NewSha256();
        var b = NewSha256();
        var aFirst = Guid.NewGuid();
        var entries = new[]
        {
            Entry(a, TieJournalStatus.Pending, t0, aFirst),
            Entry(a, TieJournalStatus.Sent, t0.AddSeconds(1), aFirst),
            Entry(b, TieJournalStatus.Skipped, t0.AddSeconds(2)),
            Entry(b, TieJournalStatus.Failed, t0.AddSeconds(3)),
            Entry(a, TieJournalStatus.Sent, t0.AddSeconds(4)) with { TrustLevelBefore = TrustLevel.KnownMalicious, TrustLevelRequested = TrustLevel.KnownTrusted },
            Entry(b, TieJournalStatus.Pending, t0.AddSeconds(5)), // its run was killed before the outcome line
            Entry(b, TieJournalStatus.Unchanged, t0.AddSeconds(6)),
        };
        var plan = TieJournal.PlanUndo(entries);
        Assert.Equal(2, plan.Count);
        Assert.Equal(b, Assert.Single(plan[0]).Sha256); // b's newest change is newer than a's
        Assert.Equal(TieJournalStatus.Pending, plan[0][0].Status);
        Assert.Equal(new[] { t0.AddSeconds(4), t0.AddSeconds(1) }, plan[1].Select(e => e.Time));
        Assert.All(plan[1], e => Assert.Equal(TieJournalStatus.Sent, e.Status));
    }
}

/// <summary>Journalled sets and their undo through the workflows, on mosquitto with the TIE simulator.</summary>
public sealed class TieJournalWorkflowTests(TieSimulatorFixture fx) : IClassFixture<TieSimulatorFixture>, IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tiedxl-journal-wf-").FullName;
    private DxlClient _dxl = null!;
    private TieClient _tie = null!;

    public async Task InitializeAsync()
    {
        _dxl = await fx.Env.ConnectAsync();
        _tie = new TieClient(_dxl) { DefaultTimeout = TimeSpan.FromSeconds(15) };
        fx.Simulator.Mode = TieSimulatorMode.Normal;
    }

    public async Task DisposeAsync()
    {
        await _dxl.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<TrustLevel> EnterpriseOf(TieHashes file) => (await _tie.GetFileReputationAsync(file)).Enterprise?.TrustLevel ?? TrustLevel.NotSet;

    [Fact]
    public async Task SetsAreJournalledWithTheIdentityAndUndoneExceptWhatAnotherClientChanged()
    {
        var path = Path.Combine(_folder, "sets.jsonl");
        var files = Enumerable.Range(0, 3).Select(_ => TieEndToEndTests.NewFile()).ToArray();
        var certificate = TieCertificateId.Parse(Convert.ToHexString(RandomNumberGenerator.GetBytes(20)));
        using (var journal = TieJournalWriter.Open(path))
        {
            foreach (var file in files)
            {
                var request = new TieEnterpriseReputationRequest(TrustLevel.KnownMalicious) { Hashes = file, FileName = "f.exe", Comment = "c", Journal = journal };
                Assert.Equal(TieSetReputationStatus.Sent, (await _tie.SetEnterpriseReputationAsync(request)).Status);
                Assert.Equal(TieSetReputationStatus.Unchanged, (await _tie.SetEnterpriseReputationAsync(request)).Status);
            }
            await _tie.SetEnterpriseReputationAsync(new TieEnterpriseReputationRequest(TrustLevel.KnownTrusted) { Certificate = certificate, Journal = journal });
            // Forced with a journal: still looked up, because the journal needs the trust level before.
            var forced = await _tie.SetEnterpriseReputationAsync(new TieEnterpriseReputationRequest(TrustLevel.MostLikelyMalicious) { Hashes = files[2], Force = true, Journal = journal });
            Assert.Equal(TrustLevel.KnownMalicious, forced.TrustLevelBefore);
        }

        var entries = TieJournal.Read(path);
        Assert.Equal(3 * 3 + 2 + 2, entries.Count); // per file Pending, Sent, Unchanged; the certificate's and the forced set's Pending and Sent
        Assert.All(entries, e => Assert.Equal(_dxl.ClientId, e.ClientId));
        Assert.All(entries, e => Assert.Equal(fx.Env.NewConfig().GetClientCertificate().Subject, e.ClientSubject));
        Assert.All(entries.Where(e => e.Status != TieJournalStatus.Pending), e => Assert.NotNull(e.TrustLevelAfter));
        var cert = Assert.Single(entries, e => e.Subject == TieJournalSubject.Certificate && e.Status == TieJournalStatus.Sent);
        Assert.Equal(certificate.Sha1, cert.Sha1);
        Assert.Equal(4, cert.ProviderId);

        // Another client changes files[1] after the run.
        var other = new TieClient(await fx.Env.ConnectAsync());
        await other.SetFileReputationAsync(files[1], TrustLevel.KnownTrusted);
        await other.Client.DisposeAsync();

        var undoPath = Path.Combine(_folder, "undo.jsonl");
        var outcomes = new List<(TieJournalEntry Entry, TieSetOutcome Outcome)>();
        using (var undoJournal = TieJournalWriter.Open(undoPath))
        {
            foreach (var group in TieJournal.PlanUndo(entries))
            foreach (var entry in group)
                outcomes.Add((entry, await _tie.RestoreReputationAsync(new TieRestoreRequest(entry) { Journal = undoJournal })));
        }

        Assert.Equal(5, outcomes.Count);
        var skipped = Assert.Single(outcomes, o => o.Outcome.Status == TieSetReputationStatus.Skipped);
        Assert.Equal(files[1].Sha256, skipped.Entry.Sha256);
        Assert.Contains("is now KnownTrusted, not KnownMalicious", skipped.Outcome.Reason);
        Assert.All(outcomes.Where(o => o.Entry.Sha256 != files[1].Sha256), o => Assert.Equal(TieSetReputationStatus.Sent, o.Outcome.Status));
        Assert.Equal(TrustLevel.NotSet, await EnterpriseOf(files[0]));
        Assert.Equal(TrustLevel.KnownTrusted, await EnterpriseOf(files[1]));
        Assert.Equal(TrustLevel.NotSet, await EnterpriseOf(files[2])); // both of its changes undone, newest first
        Assert.Equal(TrustLevel.NotSet, (await _tie.GetCertificateReputationAsync(certificate.Sha1)).Enterprise?.TrustLevel ?? TrustLevel.NotSet);

        // The undo has its own journal, and undoing it sets the files back.
        var undone = TieJournal.Read(undoPath);
        Assert.All(undone, e => Assert.Equal(TieJournalOperation.Undo, e.Operation));
        foreach (var group in TieJournal.PlanUndo(undone))
        foreach (var entry in group)
            await _tie.RestoreReputationAsync(new TieRestoreRequest(entry));
        Assert.Equal(TrustLevel.KnownMalicious, await EnterpriseOf(files[0]));
        Assert.Equal(TrustLevel.MostLikelyMalicious, await EnterpriseOf(files[2]));
        Assert.Equal(TrustLevel.KnownTrusted, await EnterpriseOf(files[1]));

        // Forced, the changed file is restored too.
        var forcedUndo = await _tie.RestoreReputationAsync(new TieRestoreRequest(skipped.Entry) { Force = true });
        Assert.Equal(TieSetReputationStatus.Sent, forcedUndo.Status);
        Assert.Equal(TrustLevel.NotSet, await EnterpriseOf(files[1]));
    }

    [Fact]
    public async Task AnExternalReportIsUndoneWithNotSet()
    {
        var path = Path.Combine(_folder, "external.jsonl");
        var file = TieEndToEndTests.NewFile();
        using (var journal = TieJournalWriter.Open(path))
        {
            var sent = await _tie.ReportExternalReputationAsync(new TieExternalReportRequest(file, TrustLevel.MightBeMalicious)
            {
                FileName = "ext.exe", FileType = FileType.PeExe, Journal = journal, VerifyWithin = TimeSpan.FromSeconds(20),
            });
            Assert.True(sent.Verified);
        }
        var entry = Assert.Single(TieJournal.Read(path), e => e.Status == TieJournalStatus.Sent);
        Assert.Equal("External", entry.Provider);
        Assert.Equal(FileType.PeExe, entry.FileType);
        Assert.Equal(TrustLevel.NotSet, entry.TrustLevelBefore);

        var undo = await _tie.RestoreReputationAsync(new TieRestoreRequest(entry));
        Assert.Equal(TieSetReputationStatus.Sent, undo.Status);
        var check = await _tie.VerifyExternalFileReputationAsync(file, TrustLevel.NotSet, TimeSpan.FromSeconds(20));
        Assert.True(check.Applied, "External must be back to NotSet");
    }
}
