using TieDxl.Tie;

namespace TieDxl.Tests.Tie;

public class TieConstantsTests
{
    [Fact]
    public void TrustLevelValuesAreTheSpecs()
    {
        Assert.Equal(new[] { 0, 1, 15, 30, 50, 70, 85, 99, 100 }, Enum.GetValues<TrustLevel>().Select(v => (int)v).Order());
        Assert.True(TieConstants.IsDefined(TrustLevel.NotSet));
        Assert.False(TieConstants.IsDefined((TrustLevel)86));
        Assert.Equal("86", TieConstants.TrustLevelName(86));
        Assert.Equal("MostLikelyTrusted", TieConstants.TrustLevelName(85));
    }

    [Fact]
    public void ProvidersAndAtdLevels()
    {
        Assert.Equal(new[] { 1, 3, 5, 7, 15 }, Enum.GetValues<FileProvider>().Select(v => (int)v));
        Assert.Equal(new[] { 2, 4 }, Enum.GetValues<CertProvider>().Select(v => (int)v));
        Assert.Equal(new[] { -2, -1, 0, 1, 2, 3, 4, 5 }, Enum.GetValues<AtdTrustLevel>().Select(v => (int)v).Order());
        Assert.Equal("External", TieConstants.FileProviderName(15));
        Assert.Equal("42", TieConstants.FileProviderName(42));
        Assert.Equal("Enterprise", TieConstants.CertProviderName(4));
    }

    [Fact]
    public void FileTypesIncludeValuesBeyond32Bits()
    {
        Assert.Equal(18L, (long)FileType.PeExe);
        Assert.Equal(2147483648L, (long)FileType.Class);
        Assert.Equal(4328554496L, (long)FileType.Jar);
        Assert.Equal(39, Enum.GetValues<FileType>().Length);
        Assert.True(TieConstants.IsDefined(FileType.Bat));
        Assert.False(TieConstants.IsDefined((FileType)3));
    }

    [Fact]
    public void Topics()
    {
        Assert.Equal("/mcafee/event/external/file/report", TieTopics.ExternalFileReport);
        Assert.Equal(6, TieTopics.RequestTopics.Count);
        Assert.All(TieTopics.RequestTopics, t => Assert.StartsWith("/mcafee/service/tie/", t));
    }

    [Theory]
    [InlineData(73183493944770750L, "1.4.0.190")]
    [InlineData(72339069014638857L, "1.1.0.265")]
    public void ServerVersionDecodes(long encoded, string expected)
    {
        Assert.Equal(expected, TieAttributeDecoding.ToVersionString(encoded));
    }

    [Fact]
    public void AggregateDecodes()
    {
        Assert.Equal(new TieAggregate(2, 100, 50, 100, 75.0), TieAttributeDecoding.ToAggregate("AgBkADIAZABMHQ=="));
        var zero = TieAttributeDecoding.ToAggregate("AQAAAAAAAAAAAA==");
        Assert.Equal(new TieAggregate(1, 0, 0, 0, 0), zero);
    }

    [Fact]
    public void EpochHelpers()
    {
        Assert.True(TieAttributeDecoding.TryFromEpoch("1451502875", out var t));
        Assert.Equal(new DateTimeOffset(2015, 12, 30, 19, 14, 35, TimeSpan.Zero), t);
        Assert.False(TieAttributeDecoding.TryFromEpoch("x", out _));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1451502875123), TieTime.FromEpoch(1451502875123));
        Assert.Null(TieTime.FromEpoch(null));
    }

    [Fact]
    public void AttributesGetNamesPerClassAndDecodedValues()
    {
        var rep = new TieReputation(3, 0, 1451502875, false, new Dictionary<string, string>
        {
            ["2101652"] = "17",
            ["2102165"] = "1451502875",
            ["2139285"] = "72339069014638857",
            ["2138520"] = "AgBkADIAZABMHQ==",
            ["2123156"] = "1",
            ["2098277"] = "256",
        });
        var byName = rep.Attributes.ToDictionary(a => a.Name);
        Assert.Equal(17L, byName["Prevalence"].Decoded);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1451502875), byName["FirstContact"].Decoded);
        Assert.Equal("1.1.0.265", byName["ServerVersion"].Decoded);
        Assert.Equal(new TieAggregate(2, 100, 50, 100, 75.0), byName["ChildFileReps"].Decoded);
        Assert.Equal(true, byName["IsPrevalent"].Decoded);
        // Unknown ids are kept raw: the name is the id.
        Assert.False(byName["2098277"].IsKnown);
        Assert.Equal("256", byName["2098277"].Decoded);
        Assert.Equal("17", rep.RawAttributes["2101652"]);
    }

    [Fact]
    public void CertificateAndAtdAttributeClasses()
    {
        var gti = new TieReputation(2, 99, null, true, new Dictionary<string, string> { ["2108821"] = "94", ["2117524"] = "0", ["2120596"] = "0" });
        Assert.Equal(new[] { "GtiPrevalence", "Revoked", "2120596" }, gti.Attributes.Select(a => a.Name));
        Assert.Equal(false, gti.Attributes[1].Decoded);
        var atd = new TieReputation(5, 15, null, false, new Dictionary<string, string> { ["4195730"] = "5", ["4197784"] = "x" });
        Assert.Equal(AtdTrustLevel.KnownMalicious, atd.Attributes[0].Decoded);
        Assert.Equal("Verdict", atd.Attributes[0].Name);
        Assert.Equal("x", atd.Attributes[1].Decoded);
        Assert.Equal("ATD", atd.ProviderName);
    }

    [Fact]
    public void UnknownTrustLevelIsKeptAsItsNumber()
    {
        var rep = new TieReputation(1, 42, null, false);
        Assert.Equal(42, (int)rep.TrustLevel);
        Assert.False(rep.IsKnownTrustLevel);
        Assert.Equal("42", rep.TrustLevelName);
    }
}
