using System.Text;
using System.Text.Json;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>The spec's reply and event examples through the parsers.</summary>
public class TieResponseParsingTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string B64(string hex) => Convert.ToBase64String(Convert.FromHexString(hex));

    private const string FileReply = """
        {
          "props": {"serverTime": 1451505556, "submitMetaData": 1},
          "reputations": [
            {"attributes": {"2120340": "2139160704"}, "createDate": 1451502875, "providerId": 1, "trustLevel": 99},
            {"attributes": {"2101652": "17", "2102165": "1451502875", "2111893": "21", "2114965": "0", "2139285": "72339069014638857"},
             "createDate": 1451502875, "providerId": 3, "trustLevel": 0}
          ]
        }
        """;

    [Fact]
    public void FileReputationReply()
    {
        var r = TiePayloads.ParseFileReputation(B(FileReply), Notepad);
        Assert.Same(Notepad.GetType(), r.Hashes.GetType());
        Assert.Equal(2, r.Reputations.Count);
        Assert.Equal(TrustLevel.KnownTrusted, r.Gti!.TrustLevel);
        Assert.Equal("GTI", r.Gti.ProviderName);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1451502875), r.Gti.CreateDate);
        Assert.Equal("GtiOriginalResponse", r.Gti.Attributes[0].Name);
        Assert.Equal(2139160704L, r.Gti.Attributes[0].Decoded);
        Assert.Equal(TrustLevel.NotSet, r.Enterprise!.TrustLevel);
        Assert.Equal("21", r.Enterprise.GetAttribute(FileEnterpriseAttrib.EnterpriseSize));
        Assert.Equal("1.1.0.265", r.Enterprise.Attributes.Single(a => a.Name == "ServerVersion").Decoded);
        Assert.Null(r.External);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1451505556), r.ServerTime);
        Assert.True(r.Props.SubmitMetaData);
        Assert.False(r.Props.AtdCandidate);
        Assert.Equal(TrustLevel.KnownTrusted, r.EffectiveTrustLevel);
        Assert.Same(r.Gti, r.MostSevere);
        Assert.Same(r.Gti, r.MostTrusted);
        Assert.True(r.HasDefinitiveNonExternalReputation);
    }

    [Fact]
    public void TrailingNulsAndWhitespaceAreStripped()
    {
        var r = TiePayloads.ParseFileReputation(B(FileReply + "\0\0 \r\n\0"), Notepad);
        Assert.Equal(2, r.Reputations.Count);
    }

    [Fact]
    public void MissingReputationsMeansNone()
    {
        var r = TiePayloads.ParseFileReputation(B("{\"props\":{\"serverTime\":1}}"), Notepad);
        Assert.Empty(r.Reputations);
        Assert.Null(r.MostSevere);
        Assert.Equal(TrustLevel.NotSet, r.EffectiveTrustLevel);
        Assert.False(r.HasDefinitiveNonExternalReputation);
    }

    [Fact]
    public void DuplicateProvidersLastWinsInPlaceAndUnknownValuesAreKept()
    {
        var r = TiePayloads.ParseFileReputation(B("""
            {"reputations":[{"providerId":3,"trustLevel":0},{"providerId":1,"trustLevel":99},{"providerId":3,"trustLevel":85,"createDate":"5"},
             {"providerId":42,"trustLevel":"77","attributes":{"9":12}}],
             "props":{"atdCandidate":1,"masterServer":"tie1;10.0.0.1"}}
            """), Notepad);
        Assert.Equal(new[] { 3, 1, 42 }, r.Reputations.Select(x => x.ProviderId));
        Assert.Equal(TrustLevel.MostLikelyTrusted, r.Enterprise!.TrustLevel);
        Assert.Equal(5, r.Enterprise.CreateDateEpoch);
        Assert.Equal(77, r.GetReputation(42)!.TrustLevelValue);
        Assert.Equal("42", r.GetReputation(42)!.ProviderName);
        Assert.Equal("12", r.GetReputation(42)!.RawAttributes["9"]);
        Assert.True(r.Props.AtdCandidate);
        Assert.Equal("tie1;10.0.0.1", r.Props.MasterServer);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\0\0")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"reputations\":{}}")]
    [InlineData("{\"reputations\":[1]}")]
    [InlineData("{\"reputations\":[{\"trustLevel\":99}]}")]
    [InlineData("{\"reputations\":[{\"providerId\":1}]}")]
    [InlineData("{\"reputations\":[{\"providerId\":1,\"trustLevel\":\"high\"}]}")]
    [InlineData("{\"reputations\":[{\"providerId\":1,\"trustLevel\":1,\"attributes\":[]}]}")]
    public void MalformedRepliesThrowJsonOrFormatExceptions(string payload)
    {
        var ex = Record.Exception(() => TiePayloads.ParseFileReputation(B(payload), Notepad));
        Assert.True(ex is JsonException or FormatException, ex?.GetType().Name ?? "no exception");
    }

    [Fact]
    public void CertificateReplyWithTopLevelOverridden()
    {
        var r = TiePayloads.ParseCertificateReputation(B($$"""
            {
              "reputations": [
                {"providerId": 2, "createDate": 1396563520, "trustLevel": 99},
                {"providerId": 4, "createDate": 1396563520, "trustLevel": 0, "attributes": {"2109333": "1", "2109589": "1396563520"} }
              ],
              "overridden": {
                "truncated": 0,
                "files": [ {"hashes": [ {"type": "md5", "value": "{{NotepadMd5B64}}"}, {"type": "sha1", "value": "{{NotepadSha1B64}}"}, {"type": "sha256", "value": "{{NotepadSha256B64}}"} ]} ]
              },
              "props": {"submitMetaData": 1, "serverTime": 1396655764}
            }
            """), "6eae26db8c13182a7947982991b4321732cc3de2", null);
        Assert.Equal(TrustLevel.KnownTrusted, r.Gti!.TrustLevel);
        Assert.Equal("GTI", r.Gti.ProviderName);
        Assert.Equal("Enterprise", r.Enterprise!.ProviderName);
        Assert.Equal("Prevalence", r.Enterprise.Attributes[0].Name);
        Assert.Equal("FirstContact", r.Enterprise.Attributes[1].Name);
        Assert.NotNull(r.Overridden);
        Assert.False(r.Overridden!.Truncated);
        Assert.Equal(Notepad, Assert.Single(r.Overridden.Files));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1396655764), r.ServerTime);
        Assert.Equal("6eae26db8c13182a7947982991b4321732cc3de2", r.Sha1);
    }

    [Fact]
    public void CertificateReplyWithOverriddenInsideAReputation()
    {
        var r = TiePayloads.ParseCertificateReputation(B($$"""
            {"reputations": [
               {"providerId": 4, "trustLevel": 0,
                "overridden": {"truncated": 1, "files": [ {"hashes": [ {"type": "md5", "value": "{{NotepadMd5B64}}"} ]} ]} } ]}
            """), "6eae26db8c13182a7947982991b4321732cc3de2", "3b87a2d6f39770160364b79a152fcc73bae27adf");
        Assert.True(r.Overridden!.Truncated);
        Assert.Equal(NotepadMd5, Assert.Single(r.Overridden.Files).Md5);
        Assert.Same(r.Enterprise!.Overridden!.Files[0], r.Overridden.Files[0]);
        Assert.Null(r.Gti);
    }

    [Fact]
    public void FirstReferences()
    {
        var r = TiePayloads.ParseFirstReferences(B("""
            {"totalCount": 3, "agents": [ {"agentGuid": "{66c5d2c6-e959-11e3-baeb-005056c00008}", "date": 1402676072},
                                           {"agentGuid": "{3a6f574a-3e6f-436d-acd4-bcde336b054d}", "date": 1475873692} ]}
            """));
        Assert.Equal(3, r.TotalCount);
        Assert.Equal(2, r.Agents.Count);
        Assert.True(r.IsTruncated);
        Assert.Equal("{66c5d2c6-e959-11e3-baeb-005056c00008}", r.Agents[0].AgentGuid);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1402676072), r.Agents[0].Date);

        var none = TiePayloads.ParseFirstReferences(B("{}"));
        Assert.Empty(none.Agents);
        Assert.Null(none.TotalCount);
        Assert.False(none.IsTruncated);
    }

    [Fact]
    public void FileRepChangeEvent()
    {
        var e = TiePayloads.ParseFileReputationChange(B("""
            {
              "hashes": [ {"type": "md5", "value": "bQvLG6j1WmwRB8LZ2gPa1w=="}, {"type": "sha1", "value": "OxbrjQd0H6+3meBW5YuBoInTcqM="}, {"type": "sha256", "value": "yXfKH1ESH+5YzaiIJ6YXOtTx1y2AJihOTE9EMCqWfkA="} ],
              "oldReputations": { "reputations": [ {"providerId": 1, "trustLevel": 99, "createDate": 1}, {"providerId": 3, "trustLevel": 0} ], "props": {"serverTime": 1409851328} },
              "newReputations": { "reputations": [ {"providerId": 1, "trustLevel": 99, "createDate": 1}, {"providerId": 3, "trustLevel": 15} ], "props": {"serverTime": 1409851328} },
              "updateTime": 1409851328,
              "relationships": { "certificate": { "hashes": [ {"type": "sha1", "value": "rB/QkipKKm5XeazdYodHwoOUsLk="} ], "publicKeySha1": "Q139Rw9ydDfHy08Hy6H5ofQnJlY=" } }
            }
            """));
        Assert.Equal("6d0bcb1ba8f55a6c1107c2d9da03dad7", e.Hashes.Md5);
        Assert.Equal("3b16eb8d07741fafb799e056e58b81a089d372a3", e.Hashes.Sha1);
        Assert.Equal("c977ca1f51121fee58cda88827a6173ad4f1d72d8026284e4c4f44302a967e40", e.Hashes.Sha256);
        Assert.Equal(TrustLevel.NotSet, e.GetOld(3)!.TrustLevel);
        Assert.Equal(TrustLevel.MostLikelyMalicious, e.GetNew(3)!.TrustLevel);
        Assert.Equal(2, e.NewReputations.Count);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1409851328), e.UpdateTime);
        Assert.Equal("ac1fd0922a4a2a6e5779acdd628747c28394b0b9", e.Certificate!.Sha1);
        Assert.Equal("435dfd470f727437c7cb4f07cba1f9a1f4272656", e.Certificate.PublicKeySha1);
        Assert.Equal(TieTopics.FileRepChangeBroadcast, e.Topic);
    }

    [Fact]
    public void CertRepChangeEvent()
    {
        var e = TiePayloads.ParseCertificateReputationChange(B("""
            {"hashes": [ {"type": "sha1", "value": "rB/QkipKKm5XeazdYodHwoOUsLk="} ], "publicKeySha1": "Q139Rw9ydDfHy08Hy6H5ofQnJlY=",
             "oldReputations": {"reputations": [ {"providerId": 4, "trustLevel": 0} ]},
             "newReputations": {"reputations": [ {"providerId": 4, "trustLevel": 85} ]}, "updateTime": 5}
            """));
        Assert.Equal("ac1fd0922a4a2a6e5779acdd628747c28394b0b9", e.Sha1);
        Assert.Equal("435dfd470f727437c7cb4f07cba1f9a1f4272656", e.PublicKeySha1);
        Assert.Equal("Enterprise", e.GetNew(4)!.ProviderName);
        Assert.Equal(TrustLevel.MostLikelyTrusted, e.GetNew(4)!.TrustLevel);
    }

    [Fact]
    public void CertRepChangeEventOfTheReferenceMockWithThePublicKeyInsideHashes()
    {
        var e = TiePayloads.ParseCertificateReputationChange(B("""
            {"hashes": [ {"type": "sha1", "value": "rB/QkipKKm5XeazdYodHwoOUsLk="}, {"type": "publicKeySha1", "value": "Q139Rw9ydDfHy08Hy6H5ofQnJlY="} ],
             "oldReputations": {"reputations": []}, "newReputations": {"reputations": []}, "updateTime": 5}
            """));
        Assert.Equal("435dfd470f727437c7cb4f07cba1f9a1f4272656", e.PublicKeySha1);
    }

    [Fact]
    public void DetectionEvent()
    {
        var md5 = "0999db84e16adf64c15a7b8039484b33";
        var sha1 = "eef65c01f816d43807d96ac7639037875e056e4b";
        var e = TiePayloads.ParseFileDetection(B($$"""
            {"agentGuid": "{68125cd6-a5d8-11e6-348e-000c29663178}", "detectionTime": 1402617156,
             "hashes": [ {"type": "md5", "value": "{{B64(md5)}}"}, {"type": "sha1", "value": "{{B64(sha1)}}"} ],
             "localReputation": 1, "name": "TEST_MALWARE.EXE", "remediationAction": 5}
            """));
        Assert.Equal(md5, e.Hashes.Md5);
        Assert.Equal(sha1, e.Hashes.Sha1);
        Assert.Equal("{68125cd6-a5d8-11e6-348e-000c29663178}", e.AgentGuid);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1402617156), e.DetectionTime);
        Assert.Equal(TrustLevel.KnownMalicious, e.LocalReputation);
        Assert.Equal("TEST_MALWARE.EXE", e.Name);
        Assert.Equal(5, e.RemediationAction);
    }

    [Fact]
    public void FirstInstanceEvent()
    {
        var md5 = "31dbe8cc443d2ca7fd236ac00a52fb17";
        var sha1 = "2d6ca45061b7972312e00e5933fdff95bb90b61b";
        var sha256 = "aa3c461d4c21a392e372d0d6ca4ceb1e4d88098d587659454eaf4d93c661880f";
        var e = TiePayloads.ParseFileFirstInstance(B($$"""
            {"agentGuid": "{d48d3d1a-915e-11e6-323a-000c2992f5d9}",
             "hashes": [ {"type": "md5", "value": "{{B64(md5)}}"}, {"type": "sha1", "value": "{{B64(sha1)}}"}, {"type": "sha256", "value": "{{B64(sha256)}}"} ],
             "name": "MORPH.EXE"}
            """));
        Assert.Equal(TieHashes.Create(md5, sha1, sha256), e.Hashes);
        Assert.Equal("MORPH.EXE", e.Name);
        Assert.Equal("{d48d3d1a-915e-11e6-323a-000c2992f5d9}", e.AgentGuid);
    }

    [Fact]
    public void PrevalenceEvent()
    {
        var e = TiePayloads.ParseFilePrevalence(B($$"""
            {"agentGuid": "{x}", "hashes": [ {"type": "md5", "value": "{{NotepadMd5B64}}"} ], "name": "notepad.exe",
             "agentFirstReference": 1475873692, "enterpriseCount": 4, "prevalent": true}
            """));
        Assert.Equal(NotepadMd5, e.Hashes.Md5);
        Assert.Equal(4, e.EnterpriseCount);
        Assert.True(e.Prevalent);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1475873692), e.AgentFirstReference);
    }

    [Fact]
    public void HashesInEventsKeepUnknownTypesAside()
    {
        var e = TiePayloads.ParseFileFirstInstance(B($$"""
            {"hashes": [ {"type": "md5", "value": "{{NotepadMd5B64}}"}, {"type": "sha512", "value": "AAEC"} ], "name": "x"}
            """));
        Assert.Equal(NotepadMd5, e.Hashes.Md5);
        Assert.Equal("000102", e.Hashes.Other["sha512"]);
        Assert.Equal(1, e.Hashes.Count);
    }

    [Fact]
    public void HashesAcceptTheHexObjectFormToo()
    {
        using var doc = JsonDocument.Parse($"{{\"md5\":\"{NotepadMd5.ToUpperInvariant()}\",\"sha1\":\"{NotepadSha1}\"}}");
        var h = TiePayloads.ReadHashes(doc.RootElement);
        Assert.Equal(NotepadMd5, h.Md5);
        Assert.Equal(NotepadSha1, h.Sha1);
    }

    [Fact]
    public void NotBase64HashValueIsAShapeError()
    {
        Assert.Throws<TiePayloadException>(() => TiePayloads.ParseFileFirstInstance(B("{\"hashes\":[{\"type\":\"md5\",\"value\":\"!!\"}]}")));
    }
}
