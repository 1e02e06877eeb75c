using System.Text;
using System.Text.Json;
using TieDxl.Tie;
using static TieDxl.Tests.Tie.TieHashesTests;

namespace TieDxl.Tests.Tie;

/// <summary>
/// The one-pass file reply reader against the document-based readers it stands in for: for every reply, the same
/// reputations, attributes and properties, or the same exception type and message.
/// </summary>
public class TieFileReplyReaderTests
{
    public static TheoryData<string> Replies() => new()
    {
        """{"props":{"serverTime":1451505556,"submitMetaData":1},"reputations":[{"attributes":{"2120340":"2139160704"},"createDate":1451502875,"providerId":1,"trustLevel":99},{"attributes":{"2101652":"17","2139285":"72339069014638857"},"createDate":1451502875,"providerId":3,"trustLevel":0}]}""",
        """{"reputations":[{"providerId":3,"trustLevel":50,"attributes":{"a":1,"b":{"x":[1, 2]},"c":null,"d":true,"e":"\u0041\"q"}}],"props":{"atdCandidate":"1","masterServer":"tie1;10.0.0.1","serverTime":1.5e3}}""",
        """{"reputations":[{"providerId":1,"trustLevel":99},{"providerId":1,"trustLevel":1,"createDate":"12"},{"providerId":5,"trustLevel":true}]}""",
        """{"reputations":[{"providerId":1,"providerId":3,"trustLevel":99,"trustLevel":85}],"reputations":[{"providerId":15,"trustLevel":70}]}""",
        """{"props":5,"reputations":null,"other":[{"reputations":7}]}""",
        """{"props":{"masterServer":42,"submitMetaData":null},"reputations":[{"providerId":3,"trustLevel":0,"attributes":null,"detectTime":7}]}""",
        """{"reputations":[{"providerId":3,"trustLevel":0,"attributes":{"k":"first","k":"second"}}]}""",
        """{"reputations":[{"providerId":3,"trustLevel":0,"overridden":{"truncated":1,"files":[{"hashes":[{"type":"md5","value":"8se7isyX+S6Yei1Ah9AhsQ=="}]}]}}]}""",
        "{}\n\0\0",
        "\uFEFF{\"reputations\":[]}",
        "", "  \0", "not json", "[1,2]", "\"text\"", "null", "{\"reputations\":{}}", "{\"reputations\":[1]}", "{\"reputations\":[[]]}",
        """{"reputations":[{"trustLevel":99}]}""", """{"reputations":[{"providerId":1}]}""",
        """{"reputations":[{"providerId":1,"trustLevel":"high"}]}""", """{"reputations":[{"providerId":1,"trustLevel":1,"attributes":[]}]}""",
        """{"reputations":[{"providerId":1e12,"trustLevel":1}]}""", """{"reputations":[{"providerId":1,"trustLevel":1,"createDate":{}}]}""",
        """{"reputations":[{"providerId":1,"trustLevel":1}],"props":{"serverTime":"soon"}}""",
        """{"reputations":[{"providerId":"x","trustLevel":1}],"props":{"serverTime":"soon"}}""",
        """{"reputations":[{"providerId":1,"trustLevel":1}] """, """{"reputations":[]} {}""", """{"a":1,}""",
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void ReadsEveryReplyAsTheDocumentReadersDo(string reply)
    {
        var payload = Encoding.UTF8.GetBytes(reply);
        var expected = Outcome(() => ByDocument(payload));
        var actual = Outcome(() => Describe(TiePayloads.ParseFileReputation(payload, Notepad)));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void AttributesStayJsonUntilReadAndThenReadOnce()
    {
        var reply = TiePayloads.ParseFileReputation(Encoding.UTF8.GetBytes(
            """{"reputations":[{"providerId":3,"trustLevel":0,"attributes":{"2101652":"17","2102165":"1451502875"}}]}"""), Notepad);
        var enterprise = reply.Enterprise!;
        Assert.Same(enterprise.RawAttributes, enterprise.RawAttributes);
        Assert.Equal(new[] { "Prevalence", "FirstContact" }, enterprise.Attributes.Select(a => a.Name));
        Assert.Equal("17", enterprise.GetAttribute(FileEnterpriseAttrib.Prevalence));
    }

    /// <summary>The reply read as before: one document, then the element readers.</summary>
    private static string ByDocument(byte[] payload)
    {
        using var doc = TiePayloads.Parse(payload);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new TiePayloadException($"the reply is a JSON {TiePayloads.Kind(root)}, not an object.");
        var reps = root.TryGetProperty("reputations", out var re) ? TiePayloads.ReadReputations(re, false) : Array.Empty<TieReputation>();
        return Describe(new FileReputationResult(Notepad, reps, TiePayloads.ReadProps(root)));
    }

    private static string Describe(FileReputationResult r)
    {
        var text = new StringBuilder();
        text.Append($"props {r.Props.ServerTimeEpoch}/{r.Props.SubmitMetaDataValue}/{r.Props.AtdCandidateValue}/{r.Props.MasterServer};");
        foreach (var rep in r.Reputations)
        {
            text.Append($" [{rep.ProviderId} {rep.TrustLevelValue} {rep.CreateDateEpoch} {rep.DetectTimeEpoch}");
            foreach (var a in rep.RawAttributes) text.Append($" {a.Key}={a.Value}");
            text.Append($" named {string.Join(",", rep.Attributes.Select(a => a.Name))}");
            if (rep.Overridden is { } o) text.Append($" overridden {o.Truncated} {string.Join(",", o.Files)}");
            text.Append(']');
        }
        return text.ToString();
    }

    private static string Outcome(Func<string> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }
}
