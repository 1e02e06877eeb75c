using System.Text;
using TieDxl.Tests.Config;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>The change feed's request writer, reply reader, validation, subject keys and state file.</summary>
public sealed class TieReputationUpdatesPayloadTests
{
    private static string Json(TieReputationUpdatesRequest request) => Encoding.UTF8.GetString(TieReputationUpdates.Request(request));

    [Fact]
    public void RequestWritesTheSchemaFieldsAndOnlyThoseGiven()
    {
        Assert.Equal("{\"sinceTime\":1402612347}", Json(new TieReputationUpdatesRequest { SinceTime = 1402612347 }));
        Assert.Equal("{\"sinceTime\":1402612347,\"queryLimit\":300,\"targeted\":true,\"targetTypes\":{\"file\":\"sha256\",\"cert\":\"sha1\"}}",
            Json(new TieReputationUpdatesRequest { SinceTime = 1402612347, QueryLimit = 300, Targeted = true, FileHashType = HashType.Sha256 }));
    }

    [Fact]
    public void TargetTypesNameTheSubjectsWantedWithTheirHash()
    {
        Assert.Equal("{\"sinceTime\":0,\"targetTypes\":{\"file\":\"sha1\"}}", Json(new TieReputationUpdatesRequest { IncludeCertificates = false }));
        Assert.Equal("{\"sinceTime\":0,\"targetTypes\":{\"file\":\"md5\"}}",
            Json(new TieReputationUpdatesRequest { IncludeCertificates = false, FileHashType = HashType.Md5 }));
        Assert.Equal("{\"sinceTime\":0,\"targetTypes\":{\"cert\":\"sha1\"}}", Json(new TieReputationUpdatesRequest { IncludeFiles = false }));
        Assert.Equal("{\"sinceTime\":0,\"targeted\":false,\"targetTypes\":{\"file\":\"sha1\",\"cert\":\"sha1\"}}",
            Json(new TieReputationUpdatesRequest { Targeted = false, CertificateHashType = HashType.Sha1 }));
    }

    [Theory]
    [InlineData(-1L, null, true, true, null, "SinceTime")]
    [InlineData(0L, 0, true, true, null, "QueryLimit")]
    [InlineData(0L, 5001, true, true, null, "QueryLimit")]
    [InlineData(0L, null, false, false, null, "IncludeFiles")]
    [InlineData(0L, null, true, true, HashType.Md5, "CertificateHashType")]
    [InlineData(0L, null, true, true, HashType.Sha256, "CertificateHashType")]
    public void BadFieldsAreRefusedBeforeAnythingIsWritten(long since, int? limit, bool files, bool certs, HashType? certType, string field)
    {
        var request = new TieReputationUpdatesRequest
        {
            SinceTime = since, QueryLimit = limit, IncludeFiles = files, IncludeCertificates = certs, CertificateHashType = certType,
        };
        var ex = Assert.ThrowsAny<ArgumentException>(() => TieReputationUpdates.Request(request));
        Assert.Equal(field, ex.ParamName);
    }

    [Fact]
    public void LimitsAtTheEdgesAreAccepted()
    {
        Assert.Contains("\"queryLimit\":1}", Json(new TieReputationUpdatesRequest { QueryLimit = 1 }));
        Assert.Contains("\"queryLimit\":5000", Json(new TieReputationUpdatesRequest { QueryLimit = 5000 }));
    }

    [Fact]
    public void TheSchemaExampleReadsWithTypeAsTheAlgorithm()
    {
        const string example = """
            {"props":{"serverTime":1518720115,"queryLimitExceeded":true},
             "fileHashes":[{"value":"ESK6sSE0rp1D+F3K9xrKLH/Wuaw=","type":"sha1"},{"value":"3tt/SI6IFXSHHisJtOUWhRFp0Y4=","type":"sha1"},
                           {"value":"MQKz601c9VO26cNqWRdcCg==","type":"md5"}],
             "certificateHashes":[{"value":"ERD6shE0rp1D+F3rUdrKLH/Wuet=","type":"sha1"}],
             "latestUpdateTime":1402602516}
            """;
        var reply = TieReputationUpdates.ParseReply(Encoding.UTF8.GetBytes(example));
        Assert.Equal(3, reply.Files.Count);
        Assert.Equal(new TieChangedSubject(TieSubjectKind.File, HashType.Sha1, TieHashes.Base64ToHex("ESK6sSE0rp1D+F3K9xrKLH/Wuaw=")), reply.Files[0]);
        Assert.Equal(HashType.Md5, reply.Files[2].HashType);
        Assert.Equal(TieSubjectKind.Certificate, Assert.Single(reply.Certificates).Kind);
        Assert.Equal(1402602516, reply.LatestUpdateTime);
        Assert.Equal(1518720115, reply.ServerTime);
        Assert.True(reply.QueryLimitExceeded);
        Assert.Equal(4, reply.Count);
    }

    [Theory]
    [InlineData("{}", 0, false)]
    [InlineData("{\"fileHashes\":[],\"certificateHashes\":[]}", 0, false)]
    [InlineData("{\"fileHashes\":[{\"type\":\"sha1\",\"value\":\"frATnSF1c5s8yw0REAZ4IL5qvSk=\"}],\"latestUpdateTime\":5,\"props\":{\"queryLimitExceeded\":1}}", 1, true)]
    [InlineData("{\"fileHashes\":[{\"type\":\"SHA1\",\"value\":\"frATnSF1c5s8yw0REAZ4IL5qvSk=\"}],\"latestUpdateTime\":\"5\",\"props\":{\"queryLimitExceeded\":0}}", 1, false)]
    public void OptionalPartsAndTheIntegerFormOfQueryLimitExceeded(string json, int count, bool exceeded)
    {
        var reply = TieReputationUpdates.ParseReply(Encoding.UTF8.GetBytes(json));
        Assert.Equal(count, reply.Count);
        Assert.Equal(exceeded, reply.QueryLimitExceeded);
        if (count > 0) Assert.Equal(NotepadSha1, reply.Files[0].Hash);
    }

    [Theory]
    [InlineData("[]", "not an object")]
    [InlineData("{\"fileHashes\":{}}", "not an array")]
    [InlineData("{\"fileHashes\":[\"x\"]}", "not a {type, value} object")]
    [InlineData("{\"fileHashes\":[{\"type\":\"sha512\",\"value\":\"AA==\"}],\"latestUpdateTime\":1}", "sha512")]
    [InlineData("{\"fileHashes\":[{\"type\":\"sha1\",\"value\":\"8se7isyX+S6Yei1Ah9AhsQ==\"}],\"latestUpdateTime\":1}", "20-byte")]
    [InlineData("{\"fileHashes\":[{\"type\":\"sha1\",\"value\":\"not base64!\"}],\"latestUpdateTime\":1}", "base64")]
    [InlineData("{\"fileHashes\":[{\"type\":\"sha1\",\"value\":\"frATnSF1c5s8yw0REAZ4IL5qvSk=\"}]}", "no latestUpdateTime")]
    [InlineData("{\"latestUpdateTime\":\"soon\"}", "latestUpdateTime")]
    public void AMalformedReplySaysWhatIsWrong(string json, string problem)
    {
        var ex = Assert.ThrowsAny<FormatException>(() => TieReputationUpdates.ParseReply(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void SubjectKeysRoundTripAndRejectWhatIsNotOne()
    {
        var file = new TieChangedSubject(TieSubjectKind.File, HashType.Sha256, NotepadSha256);
        Assert.Equal("file:sha256:" + NotepadSha256, file.Key);
        Assert.Equal(file, TieChangedSubject.FromKey(file.Key));
        Assert.Equal("cert:sha1:" + NotepadSha1, new TieChangedSubject(TieSubjectKind.Certificate, HashType.Sha1, NotepadSha1).Key);
        Assert.Null(TieChangedSubject.FromKey("cert:md5:" + NotepadMd5));
        Assert.Null(TieChangedSubject.FromKey("file:sha1:" + NotepadMd5));
        Assert.Null(TieChangedSubject.FromKey("dir:sha1:" + NotepadSha1));
        Assert.Null(TieChangedSubject.FromKey("file:sha1"));
    }

    [Fact]
    public void TheStateFileRoundTripsAndAMissingOneIsNoState()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("sub", "state.json");
        Assert.Null(TieFeedStateFile.Read(path));
        var seen = new HashSet<string> { "file:sha1:" + NotepadSha1, "cert:sha1:" + NotepadSha1 };
        TieFeedStateFile.Write(path, new TieFeedPosition(1700000000, seen), DateTimeOffset.UnixEpoch);
        var text = File.ReadAllText(path);
        Assert.StartsWith("{\"format\":\"TieDxl.ReputationChangeState\",\"version\":1,\"sinceTime\":1700000000,", text);
        var read = TieFeedStateFile.Read(path)!;
        Assert.Equal(1700000000, read.SinceTime);
        Assert.True(read.SeenAtSinceTime.SetEquals(seen));
        Assert.Empty(Directory.GetFiles(folder.Combine("sub"), "*.tmp"));
    }

    [Theory]
    [InlineData("not json at all", "not JSON")]
    [InlineData("{\"sinceTime\":5}", "format")]
    [InlineData("{\"format\":\"Something.Else\",\"version\":1,\"sinceTime\":5}", "format")]
    [InlineData("[1,2]", "format")]
    [InlineData("{\"format\":\"TieDxl.ReputationChangeState\",\"version\":9,\"sinceTime\":5}", "version 9")]
    [InlineData("{\"format\":\"TieDxl.ReputationChangeState\",\"version\":1}", "sinceTime")]
    [InlineData("{\"format\":\"TieDxl.ReputationChangeState\",\"version\":1,\"sinceTime\":-3}", "sinceTime")]
    [InlineData("{\"format\":\"TieDxl.ReputationChangeState\",\"version\":1,\"sinceTime\":5,\"seenAtSinceTime\":[\"x\"]}", "\"x\"")]
    public void AStateFileNotOursOrBrokenIsNamedAndLeftAsItIs(string content, string problem)
    {
        using var folder = new TempFolder();
        var path = folder.Write("state.json", content);
        var ex = Assert.Throws<TieFeedStateException>(() => TieFeedStateFile.Read(path));
        Assert.Equal(path, ex.Path);
        Assert.Contains(path, ex.Message);
        Assert.Contains(problem, ex.Message);
        Assert.Equal(content, File.ReadAllText(path));
    }
}
