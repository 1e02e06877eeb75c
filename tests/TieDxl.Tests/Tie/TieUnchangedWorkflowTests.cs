using System.Security.Cryptography;
using TieDxl.Dxl.Client;
using TieDxl.Fabric.Simulator;
using TieDxl.Tie;

namespace TieDxl.Tests.Tie;

/// <summary>
/// Re-runs send only what changed: a set whose provider already holds the trust level is Unchanged and sends
/// nothing, on mosquitto with the TIE simulator; -Force sends anyway.
/// </summary>
public sealed class TieUnchangedWorkflowTests(TieSimulatorFixture fx) : IClassFixture<TieSimulatorFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);
    private DxlClient _dxl = null!;
    private TieClient _tie = null!;

    public async Task InitializeAsync()
    {
        _dxl = await fx.Env.ConnectAsync();
        _tie = new TieClient(_dxl) { DefaultTimeout = TimeSpan.FromSeconds(15) };
        fx.Simulator.Mode = TieSimulatorMode.Normal;
    }

    public async Task DisposeAsync() => await _dxl.DisposeAsync();

    /// <summary>
    /// Sends a forced report of a new file and waits until TIE shows it: reports are applied in order, so every
    /// earlier report of this client has been applied too and the simulator's counter is final.
    /// </summary>
    private async Task SettleReportsAsync()
    {
        var probe = await _tie.ReportExternalReputationAsync(
            new TieExternalReportRequest(TieEndToEndTests.NewFile(), TrustLevel.MightBeTrusted) { Force = true, FileName = "probe.exe", VerifyWithin = Generous });
        Assert.True(probe.Verified, "the probe report must reach TIE");
    }

    [Fact]
    public async Task TheSameExternalReportTwiceIsSentThenUnchangedAndTieCountsOne()
    {
        var file = TieEndToEndTests.NewFile();
        var request = new TieExternalReportRequest(file, TrustLevel.MostLikelyMalicious) { FileName = "twice.exe", FileType = FileType.PeExe };
        var accepted = fx.Simulator.ExternalReportsAccepted;

        var first = await _tie.ReportExternalReputationAsync(request with { VerifyWithin = Generous });
        var second = await _tie.ReportExternalReputationAsync(request);
        await SettleReportsAsync();

        Assert.Equal(TieSetReputationStatus.Sent, first.Status);
        Assert.Equal(TrustLevel.NotSet, first.TrustLevelBefore);
        Assert.Equal(TrustLevel.MostLikelyMalicious, first.TrustLevelAfter);
        Assert.Equal((int)FileProvider.External, first.ProviderId);
        Assert.Equal(TieSetReputationStatus.Unchanged, second.Status);
        Assert.Contains("already says MostLikelyMalicious", second.Reason);
        Assert.Equal(TrustLevel.MostLikelyMalicious, second.TrustLevelBefore);
        Assert.Equal(TrustLevel.MostLikelyMalicious, second.TrustLevelAfter);
        Assert.NotNull(second.Before);
        Assert.Equal(accepted + 2, fx.Simulator.ExternalReportsAccepted); // the first report and the probe, not the second

        var forced = await _tie.ReportExternalReputationAsync(request with { Force = true });
        Assert.Equal(TieSetReputationStatus.Sent, forced.Status);
        await SettleReportsAsync();
        Assert.Equal(accepted + 4, fx.Simulator.ExternalReportsAccepted);
    }

    [Fact]
    public async Task UnchangedComesBeforeTheSkipForAnotherProvidersVerdict()
    {
        // EICAR: GTI says KnownMalicious (definitive). External first gets MightBeMalicious by force.
        var eicar = TieHashes.Create(TieSimulatorSeed.EicarMd5, TieSimulatorSeed.EicarSha1, TieSimulatorSeed.EicarSha256);
        var forced = await _tie.ReportExternalReputationAsync(
            new TieExternalReportRequest(eicar, TrustLevel.MightBeMalicious) { Force = true, FileName = "eicar.com", VerifyWithin = Generous });
        Assert.True(forced.Verified);

        var same = await _tie.ReportExternalReputationAsync(new TieExternalReportRequest(eicar, TrustLevel.MightBeMalicious) { FileName = "eicar.com" });
        var other = await _tie.ReportExternalReputationAsync(new TieExternalReportRequest(eicar, TrustLevel.KnownTrusted) { FileName = "eicar.com" });

        Assert.Equal(TieSetReputationStatus.Unchanged, same.Status);
        Assert.Equal(TieSetReputationStatus.Skipped, other.Status);
        Assert.Equal(TrustLevel.MightBeMalicious, other.TrustLevelBefore);
        Assert.Equal(TrustLevel.MightBeMalicious, other.TrustLevelAfter);
    }

    [Fact]
    public async Task TheSameEnterpriseFileSetTwiceIsSentThenUnchangedWithOneSetRequest()
    {
        var file = TieEndToEndTests.NewFile();
        var request = new TieEnterpriseReputationRequest(TrustLevel.KnownMalicious) { Hashes = file, FileName = "twice.exe" };

        var requests = fx.Simulator.RequestCount;
        var first = await _tie.SetEnterpriseReputationAsync(request);
        Assert.Equal(2, fx.Simulator.RequestCount - requests); // the lookup, then the set
        requests = fx.Simulator.RequestCount;
        var second = await _tie.SetEnterpriseReputationAsync(request);
        Assert.Equal(1, fx.Simulator.RequestCount - requests); // the lookup alone

        Assert.Equal(TieSetReputationStatus.Sent, first.Status);
        Assert.Equal(TrustLevel.NotSet, first.TrustLevelBefore);
        Assert.Equal((int)FileProvider.Enterprise, first.ProviderId);
        Assert.Equal(TieSetReputationStatus.Unchanged, second.Status);
        Assert.Equal(TrustLevel.KnownMalicious, second.TrustLevelBefore);

        requests = fx.Simulator.RequestCount;
        var forced = await _tie.SetEnterpriseReputationAsync(request with { Force = true });
        Assert.Equal(TieSetReputationStatus.Sent, forced.Status);
        Assert.Null(forced.TrustLevelBefore); // forced without a journal: no lookup
        Assert.Equal(1, fx.Simulator.RequestCount - requests);
    }

    [Fact]
    public async Task TheSameEnterpriseCertificateSetTwiceIsSentThenUnchangedWithOneSetRequest()
    {
        var certificate = TieCertificateId.Parse(Convert.ToHexString(RandomNumberGenerator.GetBytes(20)), Convert.ToHexString(RandomNumberGenerator.GetBytes(20)));
        var request = new TieEnterpriseReputationRequest(TrustLevel.MostLikelyTrusted) { Certificate = certificate };

        var requests = fx.Simulator.RequestCount;
        var first = await _tie.SetEnterpriseReputationAsync(request);
        Assert.Equal(2, fx.Simulator.RequestCount - requests);
        requests = fx.Simulator.RequestCount;
        var second = await _tie.SetEnterpriseReputationAsync(request);
        Assert.Equal(1, fx.Simulator.RequestCount - requests);

        Assert.Equal(TieSetReputationStatus.Sent, first.Status);
        Assert.Equal((int)CertProvider.Enterprise, first.ProviderId);
        Assert.Equal(TieSetReputationStatus.Unchanged, second.Status);
        Assert.Equal(TrustLevel.MostLikelyTrusted, second.TrustLevelBefore);
        var now = await _tie.GetCertificateReputationAsync(certificate.Sha1, certificate.PublicKeySha1);
        Assert.Equal(TrustLevel.MostLikelyTrusted, now.Enterprise!.TrustLevel);
    }
}
