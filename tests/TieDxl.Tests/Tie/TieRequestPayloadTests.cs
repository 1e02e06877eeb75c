using System.Text;
using System.Text.Json;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>Every request payload against the spec's, field by field and in the Python client's order.</summary>
public class TieRequestPayloadTests
{
    private const string NotepadHashArray =
        "[{\"type\":\"md5\",\"value\":\"8se7isyX+S6Yei1Ah9AhsQ==\"},{\"type\":\"sha1\",\"value\":\"frATnSF1c5s8yw0REAZ4IL5qvSk=\"}," +
        "{\"type\":\"sha256\",\"value\":\"FC4daI7wVoNww3GH/Z8jUdfd7aV0+L+psPpO9C24WqI=\"}]";

    private const string CertSha1 = "6eae26db8c13182a7947982991b4321732cc3de2";
    private const string CertPk = "3b87a2d6f39770160364b79a152fcc73bae27adf";

    private static string Text(byte[] b) => Encoding.UTF8.GetString(b);

    /// <summary>Property names in order, recursively, with values — so order and content are both compared.</summary>
    private static List<string> Flatten(string json)
    {
        var list = new List<string>();
        void Walk(JsonElement e, string path)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject()) Walk(p.Value, path + "." + p.Name);
                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in e.EnumerateArray()) Walk(item, $"{path}[{i++}]");
                    break;
                default:
                    list.Add(path + "=" + e.GetRawText());
                    break;
            }
        }
        using var doc = JsonDocument.Parse(json);
        Walk(doc.RootElement, "");
        return list;
    }

    private static void SameFields(string expected, byte[] actual) => Assert.Equal(Flatten(expected), Flatten(Text(actual)));

    [Fact]
    public void GetFileReputation()
    {
        var payload = TiePayloads.FileReputationRequest(Notepad);
        SameFields("""
            {"hashes": [
              {"type": "md5",    "value": "8se7isyX+S6Yei1Ah9AhsQ=="},
              {"type": "sha1",   "value": "frATnSF1c5s8yw0REAZ4IL5qvSk="},
              {"type": "sha256", "value": "FC4daI7wVoNww3GH/Z8jUdfd7aV0+L+psPpO9C24WqI="}],
             "scanType": 3}
            """, payload);
        // Base64 is written as is, not \u002B-escaped.
        Assert.Equal("{\"hashes\":" + NotepadHashArray + ",\"scanType\":3}", Text(payload));
    }

    [Fact]
    public void SetFileReputation()
    {
        var payload = TiePayloads.SetFileReputationRequest(Notepad, 99, "notepad.exe", "Reputation set via OpenDXL");
        SameFields("""
            {"trustLevel": 99, "providerId": 3, "filename": "notepad.exe", "comment": "Reputation set via OpenDXL",
             "hashes": [ {"type": "md5", "value": "8se7isyX+S6Yei1Ah9AhsQ=="}, {"type": "sha1", "value": "frATnSF1c5s8yw0REAZ4IL5qvSk="},
                         {"type": "sha256", "value": "FC4daI7wVoNww3GH/Z8jUdfd7aV0+L+psPpO9C24WqI="} ]}
            """, payload);
    }

    [Fact]
    public void SetFileReputationDefaultsFilenameAndCommentToEmpty()
    {
        var payload = TiePayloads.SetFileReputationRequest(TieHashes.FromHex(NotepadMd5), 0, null, null);
        Assert.Equal("{\"trustLevel\":0,\"providerId\":3,\"filename\":\"\",\"comment\":\"\",\"hashes\":[{\"type\":\"md5\",\"value\":\"8se7isyX+S6Yei1Ah9AhsQ==\"}]}", Text(payload));
    }

    [Fact]
    public void ExternalReportUsesTheHexObjectForm()
    {
        var payload = TiePayloads.ExternalFileReportEvent(TieHashes.Create(NotepadMd5.ToUpperInvariant(), NotepadSha1, NotepadSha256),
            99, (long)FileType.PeExe, "notepad.exe", "Reputation set via OpenDXL");
        SameFields("""
            {
              "file": {
                "type": 18,
                "hashes": {
                  "md5": "f2c7bb8acc97f92e987a2d4087d021b1",
                  "sha1": "7eb0139d2175739b3ccb0d1110067820be6abd29",
                  "sha256": "142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2"
                },
                "attributes": {"filename": "notepad.exe"},
                "reputation": {"score": 99}
              },
              "provider": {"id": 15},
              "comment": "Reputation set via OpenDXL"
            }
            """, payload);
    }

    [Fact]
    public void ExternalReportCarriesLargeFileTypesAndNotSet()
    {
        var payload = Text(TiePayloads.ExternalFileReportEvent(TieHashes.FromHex(NotepadSha256), 0, (long)FileType.Jar, "a.jar", ""));
        Assert.Contains("\"type\":4328554496", payload);
        Assert.Contains("\"score\":0", payload);
        Assert.Contains("\"hashes\":{\"sha256\":\"" + NotepadSha256 + "\"}", payload);
    }

    [Fact]
    public void GetCertificateReputationWithAndWithoutPublicKey()
    {
        var sha1 = TieHashes.ParseHex(HashType.Sha1, CertSha1);
        var pk = TieHashes.ParseHex(HashType.Sha1, CertPk);
        SameFields("""
            { "hashes": [ {"type": "sha1", "value": "bq4m24wTGCp5R5gpkbQyFzLMPeI="} ], "publicKeySha1": "O4ei1vOXcBYDZLeaFS/Mc7riet8=" }
            """, TiePayloads.CertificateReputationRequest(sha1, pk));
        Assert.Equal("{\"hashes\":[{\"type\":\"sha1\",\"value\":\"bq4m24wTGCp5R5gpkbQyFzLMPeI=\"}]}", Text(TiePayloads.CertificateReputationRequest(sha1, null)));
    }

    [Fact]
    public void SetCertificateReputation()
    {
        var sha1 = TieHashes.ParseHex(HashType.Sha1, CertSha1);
        var pk = TieHashes.ParseHex(HashType.Sha1, CertPk);
        SameFields("""
            { "trustLevel": 99, "providerId": 4, "comment": "Reputation set via OpenDXL",
              "hashes": [ {"type": "sha1", "value": "bq4m24wTGCp5R5gpkbQyFzLMPeI="} ], "publicKeySha1": "O4ei1vOXcBYDZLeaFS/Mc7riet8=" }
            """, TiePayloads.SetCertificateReputationRequest(sha1, pk, 99, "Reputation set via OpenDXL"));
        Assert.DoesNotContain("publicKeySha1", Text(TiePayloads.SetCertificateReputationRequest(sha1, null, 99, null)));
        Assert.DoesNotContain("filename", Text(TiePayloads.SetCertificateReputationRequest(sha1, null, 99, null)));
    }

    [Fact]
    public void FirstReferences()
    {
        SameFields("{ \"queryLimit\": 500, \"hashes\": " + NotepadHashArray + " }", TiePayloads.FileFirstReferencesRequest(Notepad, 500));
        var sha1 = TieHashes.ParseHex(HashType.Sha1, CertSha1);
        var pk = TieHashes.ParseHex(HashType.Sha1, CertPk);
        SameFields("""
            { "queryLimit": 7, "hashes": [ {"type": "sha1", "value": "bq4m24wTGCp5R5gpkbQyFzLMPeI="} ], "publicKeySha1": "O4ei1vOXcBYDZLeaFS/Mc7riet8=" }
            """, TiePayloads.CertificateFirstReferencesRequest(sha1, pk, 7));
    }

    [Fact]
    public void QuotesAndNonAsciiInNamesStayValidJson()
    {
        var payload = TiePayloads.SetFileReputationRequest(Notepad, 99, "a\"b\\c\u00e9.exe", "line1\nline2");
        using var doc = JsonDocument.Parse(payload);
        Assert.Equal("a\"b\\c\u00e9.exe", doc.RootElement.GetProperty("filename").GetString());
        Assert.Equal("line1\nline2", doc.RootElement.GetProperty("comment").GetString());
    }
}
