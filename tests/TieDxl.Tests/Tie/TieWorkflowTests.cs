using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TieDxl.Dxl.Client;
using TieDxl.Fabric.Simulator;
using TieDxl.Tests.Infrastructure;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>The TIE layer's workflows (External report, Enterprise reputations, verification, probe) on mosquitto with the simulator.</summary>
public sealed class TieWorkflowTests(TieSimulatorFixture fx) : IClassFixture<TieSimulatorFixture>, IAsyncLifetime
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

    private static TieHashes NewFile() => TieEndToEndTests.NewFile();

    private static readonly TieHashes Notepad = TieHashes.Create(NotepadMd5, NotepadSha1, NotepadSha256);

    [Fact]
    public async Task AnUnknownFileIsReportedAndVerified()
    {
        var file = NewFile();
        var outcome = await _tie.ReportExternalReputationAsync(
            new TieExternalReportRequest(file, TrustLevel.MightBeTrusted) { FileName = "tool.exe", FileType = FileType.PeExe, VerifyWithin = TimeSpan.FromSeconds(10) });
        Assert.Equal(TieSetReputationStatus.Sent, outcome.Status);
        Assert.True(outcome.Verified);
        Assert.False(outcome.Before?.HasDefinitiveNonExternalReputation ?? false);
        Assert.Null(outcome.Error);
        Assert.Equal("tool.exe", outcome.SentFileName);
        var after = await _tie.GetFileReputationAsync(file);
        Assert.Equal(TrustLevel.MightBeTrusted, after.External!.TrustLevel);
    }

    [Fact]
    public async Task AFileAnotherProviderDecidedIsSkippedAndNothingIsSent()
    {
        var before = fx.Simulator.ExternalReportsAccepted;
        var outcome = await _tie.ReportExternalReputationAsync(new TieExternalReportRequest(Notepad, TrustLevel.KnownMalicious) { FileName = "notepad.exe" });
        Assert.Equal(TieSetReputationStatus.Skipped, outcome.Status);
        Assert.NotNull(outcome.Before);
        Assert.Contains("says", outcome.Reason);
        Assert.Contains("nothing was sent", outcome.Reason);
        await Task.Delay(300);
        Assert.Equal(before, fx.Simulator.ExternalReportsAccepted);
    }

    [Fact]
    public async Task ForceSendsWithoutALookupAndTheHashStandsInForAMissingName()
    {
        var requests = fx.Simulator.RequestCount;
        var outcome = await _tie.ReportExternalReputationAsync(new TieExternalReportRequest(Notepad, TrustLevel.MostLikelyTrusted) { Force = true });
        Assert.Equal(TieSetReputationStatus.Sent, outcome.Status);
        Assert.Null(outcome.Before);
        Assert.Equal(Notepad.Sha256, outcome.SentFileName);
        Assert.Equal(requests, fx.Simulator.RequestCount);
    }

    [Fact]
    public async Task AKnownReputationIsUsedInsteadOfAskingAgain()
    {
        var known = await _tie.GetFileReputationAsync(Notepad);
        var requests = fx.Simulator.RequestCount;
        var outcome = await _tie.ReportExternalReputationAsync(new TieExternalReportRequest(Notepad, TrustLevel.KnownMalicious) { KnownReputation = known });
        Assert.Equal(TieSetReputationStatus.Skipped, outcome.Status);
        Assert.Same(known, outcome.Before);
        Assert.Equal(requests, fx.Simulator.RequestCount);
    }

    [Fact]
    public async Task AFailedLookupIsAFailedOutcomeAndNothingIsSent()
    {
        fx.Simulator.Mode = TieSimulatorMode.Error;
        fx.Simulator.ErrorCode = 7;
        var before = fx.Simulator.ExternalReportsAccepted;
        var outcome = await _tie.ReportExternalReputationAsync(new TieExternalReportRequest(NewFile(), TrustLevel.MightBeTrusted) { FileName = "x.exe" });
        Assert.Equal(TieSetReputationStatus.Failed, outcome.Status);
        Assert.IsType<TieServiceErrorException>(outcome.Error);
        await Task.Delay(300);
        Assert.Equal(before, fx.Simulator.ExternalReportsAccepted);
    }

    [Fact]
    public async Task AReportThatCannotBeSentIsFailedNeverSent()
    {
        var client = await fx.Env.ConnectAsync();
        var tie = new TieClient(client);
        await client.DisconnectAsync();
        var outcome = await tie.ReportExternalReputationAsync(new TieExternalReportRequest(NewFile(), TrustLevel.MightBeTrusted) { Force = true, FileName = "x.exe" });
        await client.DisposeAsync();
        Assert.Equal(TieSetReputationStatus.Failed, outcome.Status);
        Assert.StartsWith("not sent: ", outcome.Reason);
        Assert.IsType<TieConnectionException>(outcome.Error);
    }

    [Fact]
    public async Task AReportTieDoesNotShowInTimeFailsVerification()
    {
        fx.Simulator.ResponseDelay = TimeSpan.FromSeconds(3);
        var outcome = await _tie.ReportExternalReputationAsync(
            new TieExternalReportRequest(NewFile(), TrustLevel.MightBeTrusted) { Force = true, FileName = "slow.exe", VerifyWithin = TimeSpan.FromMilliseconds(600) });
        Assert.Equal(TieSetReputationStatus.Failed, outcome.Status);
        Assert.False(outcome.Verified);
        var error = Assert.IsType<TieVerificationException>(outcome.Error);
        Assert.Contains("did not report External", error.Message);
        Assert.Equal(TieErrorKind.NotVerified, error.Kind);
    }

    [Fact]
    public async Task VerificationKeepsLookingWhileLookupsFailAndEndsByItsDeadline()
    {
        fx.Simulator.Mode = TieSimulatorMode.Garbage;
        var started = DateTime.UtcNow;
        var check = await _tie.VerifyExternalFileReputationAsync(NewFile(), TrustLevel.KnownTrusted, TimeSpan.FromMilliseconds(700), TimeSpan.FromMilliseconds(50));
        var took = DateTime.UtcNow - started;
        Assert.False(check.Applied);
        Assert.True(check.Lookups >= 3, $"{check.Lookups} lookups");
        Assert.InRange(took, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task EnterpriseReputationsOfFilesAndCertificatesAreSetOrFail()
    {
        var file = NewFile();
        var outcome = await _tie.SetEnterpriseReputationAsync(new TieEnterpriseReputationRequest(TrustLevel.KnownMalicious) { Hashes = file, FileName = "bad.exe" });
        Assert.Equal(TieSetReputationStatus.Sent, outcome.Status);
        Assert.Equal(TrustLevel.KnownMalicious, (await _tie.GetFileReputationAsync(file)).Enterprise!.TrustLevel);

        var certificate = TieCertificateId.Parse(Convert.ToHexString(RandomNumberGenerator.GetBytes(20)));
        outcome = await _tie.SetEnterpriseReputationAsync(new TieEnterpriseReputationRequest(TrustLevel.KnownTrusted) { Certificate = certificate });
        Assert.Equal(TieSetReputationStatus.Sent, outcome.Status);

        fx.Simulator.Mode = TieSimulatorMode.NoReply;
        var tie = new TieClient(_dxl) { DefaultTimeout = TimeSpan.FromMilliseconds(500) };
        outcome = await tie.SetEnterpriseReputationAsync(new TieEnterpriseReputationRequest(TrustLevel.KnownTrusted) { Hashes = file });
        Assert.Equal(TieSetReputationStatus.Failed, outcome.Status);
        Assert.IsType<TieTimeoutException>(outcome.Error);
    }

    [Fact]
    public async Task TheProbeSaysWhatTieAnswered()
    {
        Assert.StartsWith("TIE answered a file lookup", await _tie.ProbeAsync(TimeSpan.FromSeconds(5)));
        fx.Simulator.Mode = TieSimulatorMode.NoReply;
        await Assert.ThrowsAsync<TieTimeoutException>(() => _tie.ProbeAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void ACertificateIsIdentifiedByTheSha1OfItsDerAndOfItsPublicKey()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Signer", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var id = TieCertificateId.FromCertificate(certificate);
        Assert.Equal(Convert.ToHexString(SHA1.HashData(certificate.RawData)).ToLowerInvariant(), id.Sha1);
        Assert.Equal(Convert.ToHexString(SHA1.HashData(certificate.GetPublicKey())).ToLowerInvariant(), id.PublicKeySha1);
        Assert.Equal("CN=Signer", id.Subject);
        Assert.Equal(id.Sha1, TieCertificateId.Parse(id.Sha1.ToUpperInvariant(), id.PublicKeySha1).Sha1);
        Assert.Throws<TieHashFormatException>(() => TieCertificateId.Parse("abc"));
    }
}
