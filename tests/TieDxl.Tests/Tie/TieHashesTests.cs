using TieDxl.Tie;

namespace TieDxl.Tests.Tie;

public class TieHashesTests
{
    internal const string NotepadMd5 = "f2c7bb8acc97f92e987a2d4087d021b1";
    internal const string NotepadSha1 = "7eb0139d2175739b3ccb0d1110067820be6abd29";
    internal const string NotepadSha256 = "142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2";
    internal const string NotepadMd5B64 = "8se7isyX+S6Yei1Ah9AhsQ==";
    internal const string NotepadSha1B64 = "frATnSF1c5s8yw0REAZ4IL5qvSk=";
    internal const string NotepadSha256B64 = "FC4daI7wVoNww3GH/Z8jUdfd7aV0+L+psPpO9C24WqI=";

    internal static TieHashes Notepad => TieHashes.Create(NotepadMd5, NotepadSha1, NotepadSha256);

    [Fact]
    public void NotepadMd5HexBecomesTheSpecBase64()
    {
        Assert.Equal(NotepadMd5B64, TieHashes.HexToBase64(HashType.Md5, NotepadMd5));
        Assert.Equal(NotepadSha1B64, TieHashes.HexToBase64(HashType.Sha1, NotepadSha1));
        Assert.Equal(NotepadSha256B64, TieHashes.HexToBase64(HashType.Sha256, NotepadSha256));
        Assert.Equal(NotepadMd5B64, Notepad.ToBase64(HashType.Md5));
    }

    [Fact]
    public void Base64BecomesLowerCaseHex()
    {
        Assert.Equal(NotepadMd5, TieHashes.Base64ToHex(NotepadMd5B64));
        Assert.Equal("74657374", TieHashes.Base64ToHex("dGVzdA=="));
    }

    [Fact]
    public void HexInAnyCaseComesOutLowerCase()
    {
        var h = TieHashes.Create(md5: NotepadMd5.ToUpperInvariant(), sha256: "  " + NotepadSha256.ToUpperInvariant() + " ");
        Assert.Equal(NotepadMd5, h.Md5);
        Assert.Equal(NotepadSha256, h.Sha256);
        Assert.Null(h.Sha1);
        Assert.Equal(2, h.Count);
        Assert.Equal(NotepadMd5B64, h.ToBase64(HashType.Md5));
    }

    [Theory]
    [InlineData(NotepadMd5, HashType.Md5)]
    [InlineData(NotepadSha1, HashType.Sha1)]
    [InlineData(NotepadSha256, HashType.Sha256)]
    public void AlgorithmIsInferredFromLength(string hex, HashType expected)
    {
        Assert.Equal(expected, TieHashes.InferType(hex));
        Assert.Equal(hex, TieHashes.FromHex(hex)[expected]);
    }

    [Fact]
    public void UnknownLengthNamesTheValueAndTheLengths()
    {
        var ex = Assert.Throws<TieHashFormatException>(() => TieHashes.FromHex("abc123"));
        Assert.Contains("'abc123'", ex.Message);
        Assert.Contains("6 characters", ex.Message);
        Assert.Contains("32 (md5)", ex.Message);
        Assert.Null(ex.HashType);
    }

    [Fact]
    public void WrongLengthForTheTypeIsRejected()
    {
        var ex = Assert.Throws<TieHashFormatException>(() => TieHashes.Create(sha1: NotepadMd5));
        Assert.Equal(HashType.Sha1, ex.HashType);
        Assert.Contains(NotepadMd5, ex.Message);
        Assert.Contains("40 hex digits", ex.Message);
        Assert.Contains("has 32", ex.Message);
    }

    [Fact]
    public void NonHexCharacterIsNamedWithItsPosition()
    {
        var bad = "g2c7bb8acc97f92e987a2d4087d021b1";
        var ex = Assert.Throws<TieHashFormatException>(() => TieHashes.Create(md5: bad));
        Assert.Contains("'g' at position 1", ex.Message);
        Assert.Equal(bad, ex.Value);
        Assert.IsAssignableFrom<ArgumentException>(ex);
    }

    [Fact]
    public void OddLengthIsRejected()
    {
        Assert.Throws<TieHashFormatException>(() => TieHashes.FromHex(HashType.Md5, NotepadMd5[..31]));
    }

    [Fact]
    public void DictionaryAcceptsGetFileHashAlgorithmNames()
    {
        var h = TieHashes.FromDictionary(new Dictionary<string, string>
        {
            ["MD5"] = NotepadMd5.ToUpperInvariant(),
            ["SHA-1"] = NotepadSha1,
            ["SHA256"] = NotepadSha256,
        });
        Assert.Equal(Notepad, h);
        var ex = Assert.Throws<ArgumentException>(() => TieHashes.FromDictionary(new Dictionary<string, string> { ["sha512"] = "00" }));
        Assert.Contains("sha512", ex.Message);
    }

    [Fact]
    public void HashtableInput()
    {
        var table = new System.Collections.Hashtable { ["Sha256"] = NotepadSha256, ["md5"] = NotepadMd5, ["sha1"] = "" };
        var h = TieHashes.FromHashtable(table);
        Assert.Equal(2, h.Count);
        Assert.Equal(NotepadSha256, h.Sha256);
    }

    [Fact]
    public void HexListInfersTypesAndRejectsDuplicates()
    {
        Assert.Equal(Notepad, TieHashes.FromHexList(new[] { NotepadSha256, NotepadMd5, NotepadSha1 }));
        Assert.Throws<TieHashFormatException>(() => TieHashes.FromHexList(new[] { NotepadMd5, NotepadMd5 }));
    }

    [Fact]
    public void DictionaryOutIsLowerHexInMd5Sha1Sha256Order()
    {
        var d = Notepad.ToDictionary();
        Assert.Equal(new[] { "md5", "sha1", "sha256" }, d.Keys);
        Assert.Equal(NotepadSha1, d["sha1"]);
        Assert.Equal($"md5={NotepadMd5}, sha1={NotepadSha1}, sha256={NotepadSha256}", Notepad.ToString());
    }

    [Fact]
    public void MergeAndStrongest()
    {
        var a = TieHashes.FromHex(NotepadMd5);
        var b = TieHashes.FromHex(NotepadSha256);
        var m = a.Merge(b);
        Assert.Equal(2, m.Count);
        Assert.Equal(HashType.Sha256, m.Strongest!.Value.Key);
        Assert.Equal(HashType.Md5, a.Strongest!.Value.Key);
        Assert.Null(TieHashes.Empty.Strongest);
        Assert.True(TieHashes.Empty.IsEmpty);
    }

    [Fact]
    public void FromBytesChecksTheDigestLength()
    {
        Assert.Throws<TieHashFormatException>(() => TieHashes.FromBytes(HashType.Sha1, new byte[16]));
        Assert.Equal(new string('0', 40), TieHashes.FromBytes(HashType.Sha1, new byte[20]).Sha1);
    }

    [Fact]
    public void HashTypeNames()
    {
        Assert.Equal("md5", HashType.Md5.WireName());
        Assert.Equal("sha1", HashType.Sha1.WireName());
        Assert.Equal("sha256", HashType.Sha256.WireName());
        Assert.True(TieConstants.TryParseHashType("Sha-256", out var t));
        Assert.Equal(HashType.Sha256, t);
        Assert.False(TieConstants.TryParseHashType("publicKeySha1", out _));
    }
}
