using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>TieClient without a network: argument checks before sending, error mapping, definitive-reputation logic.</summary>
public sealed class TieClientOfflineTests : IAsyncDisposable
{
    private readonly DxlClient _dxl = new(new DxlClientConfig());
    private readonly TieClient _tie;

    public TieClientOfflineTests() => _tie = new TieClient(_dxl);

    public ValueTask DisposeAsync() => _dxl.DisposeAsync();

    [Fact]
    public async Task EmptyHashesAreRejectedBeforeSending()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _tie.GetFileReputationAsync(TieHashes.Empty));
        await Assert.ThrowsAsync<ArgumentException>(() => _tie.SetFileReputationAsync(TieHashes.Empty, TrustLevel.KnownTrusted));
        await Assert.ThrowsAsync<ArgumentException>(() => _tie.SetExternalFileReputationAsync(TieHashes.Empty, TrustLevel.KnownTrusted));
        await Assert.ThrowsAsync<ArgumentException>(() => _tie.GetFileFirstReferencesAsync(TieHashes.Empty));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _tie.GetFileReputationAsync(null!));
    }

    [Fact]
    public async Task InvalidTrustLevelsAndFileTypesAreRejected()
    {
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _tie.SetExternalFileReputationAsync(Notepad, (TrustLevel)86));
        Assert.Contains("86", ex.Message);
        var ft = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _tie.SetExternalFileReputationAsync(Notepad, TrustLevel.KnownTrusted, (FileType)3));
        Assert.Contains("FileType", ft.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _tie.SetFileReputationAsync(Notepad, (TrustLevel)101));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _tie.SetCertificateReputationAsync(new string('a', 40), (TrustLevel)2));
    }

    [Fact]
    public async Task NotSetIsAcceptedForExternalReports()
    {
        // Not connected: the call gets past validation (bug #22 of the Python client not copied) and fails on the connection.
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => _tie.SetExternalFileReputationAsync(Notepad, TrustLevel.NotSet, FileType.PeExe, "notepad.exe"));
        Assert.IsNotType<ArgumentException>(ex, exactMatch: false);
    }

    [Fact]
    public async Task QueryLimitRange()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _tie.GetFileFirstReferencesAsync(Notepad, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _tie.GetFileFirstReferencesAsync(Notepad, 5001));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _tie.GetCertificateFirstReferencesAsync(new string('a', 40), null, -1));
    }

    [Fact]
    public async Task CertificateHashesAreValidated()
    {
        var ex = await Assert.ThrowsAsync<TieHashFormatException>(() => _tie.GetCertificateReputationAsync(NotepadMd5));
        Assert.Equal(HashType.Sha1, ex.HashType);
        await Assert.ThrowsAsync<TieHashFormatException>(() => _tie.GetCertificateReputationAsync(new string('a', 40), "xyz"));
        await Assert.ThrowsAsync<ArgumentException>(() => _tie.GetCertificateReputationAsync(" "));
    }

    [Fact]
    public void TimeoutMustBePositive()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), _tie.DefaultTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => _tie.DefaultTimeout = TimeSpan.Zero);
    }

    [Fact]
    public async Task NotConnectedBecomesAConnectionError()
    {
        var ex = await Assert.ThrowsAsync<TieConnectionException>(() => _tie.GetFileReputationAsync(Notepad));
        Assert.Equal(TieErrorKind.Connection, ex.Kind);
        Assert.IsAssignableFrom<DxlConnectionException>(ex.InnerException);
    }

    private static DxlErrorResponseException ErrorResponse(long code, string message)
    {
        var request = new DxlRequest(TieTopics.FileReputation) { ReplyToTopic = "/mcafee/client/x", SourceClientId = "x" };
        return new DxlErrorResponseException(TieTopics.FileReputation, new DxlErrorResponse(request, code, message));
    }

    [Fact]
    public void NotFoundIsCodeZeroWithTheServiceText()
    {
        var mapped = TieClient.MapError(TieTopics.FileReputation, TimeSpan.FromSeconds(30), ErrorResponse(0, "Could not find reputation"));
        var nf = Assert.IsType<TieNotFoundException>(mapped);
        Assert.Equal(TieErrorKind.NotFound, nf.Kind);
        Assert.Contains("Could not find reputation", nf.Message);
        Assert.Equal(TieTopics.FileReputation, nf.Topic);
    }

    [Fact]
    public void ServiceNotFoundIsUnavailable()
    {
        var mapped = TieClient.MapError(TieTopics.FileReputation, TimeSpan.FromSeconds(30), ErrorResponse(-2147483647, DxlErrorCodes.ServiceNotFoundMessage));
        Assert.IsType<TieServiceUnavailableException>(mapped);
        Assert.Equal(TieErrorKind.ServiceUnavailable, mapped!.Kind);
        var unsigned = TieClient.MapError(TieTopics.FileReputation, TimeSpan.FromSeconds(30), ErrorResponse(2147483649, DxlErrorCodes.ServiceNotFoundMessage));
        Assert.IsType<TieServiceUnavailableException>(unsigned);
    }

    [Fact]
    public void OtherErrorsKeepTheirCode()
    {
        var other = Assert.IsType<TieServiceErrorException>(TieClient.MapError(TieTopics.FileReputation, TimeSpan.FromSeconds(30), ErrorResponse(0, "boom")));
        Assert.Equal(0u, other.Code);
        Assert.Equal("boom", other.ServiceMessage);
        var overloaded = Assert.IsType<TieServiceErrorException>(TieClient.MapError(TieTopics.FileReputation, TimeSpan.FromSeconds(30), ErrorResponse(-2147483646, "service is overloaded")));
        Assert.True(overloaded.IsServiceOverloaded);
        Assert.Contains("0x80000002", overloaded.Message);
    }

    [Fact]
    public void TimeoutCarriesTheAuthorisationHint()
    {
        var set = Assert.IsType<TieTimeoutException>(TieClient.MapError(TieTopics.FileReputationSet, TimeSpan.FromSeconds(5),
            new DxlTimeoutException(TieTopics.FileReputationSet, "{id}", TimeSpan.FromSeconds(5))));
        Assert.Contains("TIE Server Set Enterprise Reputation", set.Message);
        Assert.Equal(TimeSpan.FromSeconds(5), set.Timeout);
        var get = Assert.IsType<TieTimeoutException>(TieClient.MapError(TieTopics.FileReputation, TimeSpan.FromSeconds(5),
            new DxlTimeoutException(TieTopics.FileReputation, "{id}", TimeSpan.FromSeconds(5))));
        Assert.Contains("authorised", get.Message);
    }

    [Fact]
    public void UnrelatedExceptionsPassThrough()
    {
        Assert.Null(TieClient.MapError("t", TimeSpan.FromSeconds(1), new OperationCanceledException()));
        Assert.Null(TieClient.MapError("t", TimeSpan.FromSeconds(1), new InvalidOperationException()));
    }

    private static TieReputation Rep(int provider, int trust) => new(provider, trust, null, false);

    [Theory]
    [InlineData(new[] { 1, 99, 3, 0 }, true)]    // notepad: GTI known trusted
    [InlineData(new[] { 1, 50, 3, 0 }, false)]   // UNKNOWN_FILE: only unknown / not set
    [InlineData(new[] { 15, 99 }, false)]        // External alone does not count
    [InlineData(new[] { 15, 1, 3, 50 }, false)]
    [InlineData(new[] { 5, 30 }, true)]          // ATD suspicious
    [InlineData(new[] { 42, 85 }, true)]         // unknown provider with a verdict
    [InlineData(new int[0], false)]
    public void DefinitiveNonExternalReputation(int[] pairs, bool expected)
    {
        var reps = Enumerable.Range(0, pairs.Length / 2).Select(i => Rep(pairs[2 * i], pairs[2 * i + 1])).ToList();
        Assert.Equal(expected, FileReputationResult.HasDefinitiveNonExternal(reps));
        Assert.Equal(expected, new FileReputationResult(Notepad, reps, TieServerProperties.Empty).HasDefinitiveNonExternalReputation);
    }

    [Fact]
    public void MostSevereAndMostTrustedIgnoreNotSet()
    {
        var r = new FileReputationResult(Notepad, new[] { Rep(1, 85), Rep(3, 0), Rep(5, 15), Rep(15, 99) }, TieServerProperties.Empty);
        Assert.Equal(5, r.MostSevere!.ProviderId);
        Assert.Equal(15, r.MostTrusted!.ProviderId);
        Assert.Equal(TrustLevel.MostLikelyMalicious, r.EffectiveTrustLevel);
    }

    [Fact]
    public void ExternalReportAdvice()
    {
        Assert.Equal(TieExternalReportAdvice.None, TieClient.CheckExternalReport(Notepad, "notepad.exe", FileType.PeExe));
        Assert.Equal(TieExternalReportAdvice.NoFileName | TieExternalReportAdvice.FewHashTypes | TieExternalReportAdvice.NoFileType,
            TieClient.CheckExternalReport(TieHashes.FromHex(NotepadSha256), "", FileType.None));
        Assert.Equal(TieExternalReportAdvice.FewHashTypes,
            TieClient.CheckExternalReport(TieHashes.FromHex(NotepadSha256), "notepad.exe", FileType.PeExe));
    }
}
