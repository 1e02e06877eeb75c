using TieDxl.Dxl;
using TieDxl.Dxl.Config;

namespace TieDxl.Tests.Config;

public class DxlClientConfigTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Certs = "[Certs]\nBrokerCertChain=ca.crt\nCertFile=client.crt\nPrivateKey=client.key\n";

    private DxlConfigException LoadFails(string text, string name = "dxlclient.config")
    {
        var path = _dir.Write(name, text);
        var e = Assert.Throws<DxlConfigException>(() => DxlClientConfig.Load(path));
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void ReadsAnEpoStyleFile()
    {
        var path = _dir.Write("dxlclient.config",
            "[General]\n" +
            "ClientId={11111111-2222-3333-4444-555555555555}\n" +
            "\n" +
            "[Certs]\n" +
            "BrokerCertChain=ca-broker.crt\n" +
            "CertFile=client.crt\n" +
            "PrivateKey=client.key\n" +
            "\n" +
            "[Brokers]\n" +
            "{aaaa}={aaaa};8883;broker1.example.com;10.0.0.1\n" +
            "broker2=broker2;8993;broker2.example.com\n" +
            "b3=8883;broker3\n" +
            "b4=8883;[fe80::1];[fe80::2]\n" +
            "\n" +
            "[BrokersWebSockets]\n" +
            "{aaaa}={aaaa};443;broker1.example.com;10.0.0.1\n");
        var c = DxlClientConfig.Load(path);

        Assert.Equal(path, c.ConfigFilePath);
        Assert.Equal("{11111111-2222-3333-4444-555555555555}", c.ClientId);
        Assert.Equal(_dir.Combine("ca-broker.crt"), c.BrokerCertChainPath);
        Assert.Equal(_dir.Combine("client.crt"), c.CertFilePath);
        Assert.Equal(_dir.Combine("client.key"), c.PrivateKeyPath);
        Assert.Equal(4, c.Brokers.Count);
        Assert.Equal(new DxlBroker("{aaaa}", "broker1.example.com", 8883, "10.0.0.1"), c.Brokers[0]);
        Assert.Equal(new DxlBroker("broker2", "broker2.example.com", 8993), c.Brokers[1]);
        Assert.Equal(new DxlBroker(null, "broker3", 8883), c.Brokers[2]);
        Assert.Equal(new DxlBroker(null, "fe80::1", 8883, "fe80::2"), c.Brokers[3]);
        Assert.Single(c.WebSocketBrokers);
        Assert.True(c.WebSocketBrokers[0].IsWebSocket);
        Assert.Null(c.UseWebSockets);
        Assert.Same(c.Brokers, c.EffectiveBrokers);
        Assert.Null(c.Proxy);
    }

    [Fact]
    public void CommentsQuotesAndWhitespace()
    {
        var path = _dir.Write("dxlclient.config",
            "\uFEFF# a comment line\n" +
            "   # an indented comment\n" +
            "[General]   # comment after a section\n" +
            "ClientId = \"my client; with # inside\"   # trailing comment\n" +
            "UseWebSockets = no # off\n" +
            "[Certs]\n" +
            "BrokerCertChain = 'ca file.crt'\n" +
            "CertFile=client.crt#not-a-comment\n" +
            "PrivateKey=client.key   \t# comment\n" +
            "[Brokers]\n" +
            "b1 = b1 ; 8883 ; host1 ; 10.0.0.1   # comment; not a field\n");
        var c = DxlClientConfig.Load(path);
        Assert.Equal("my client; with # inside", c.ClientId);
        Assert.False(c.UseWebSockets);
        Assert.Equal(_dir.Combine("ca file.crt"), c.BrokerCertChainPath);
        Assert.Equal(_dir.Combine("client.crt#not-a-comment"), c.CertFilePath);
        Assert.Equal(_dir.Combine("client.key"), c.PrivateKeyPath);
        Assert.Equal(new DxlBroker("b1", "host1", 8883, "10.0.0.1"), Assert.Single(c.Brokers));
    }

    [Fact]
    public void SectionsAndKeysMatchCaseInsensitivelyValuesKeepCase()
    {
        var path = _dir.Write("dxlclient.config",
            "[general]\nclientid=MyClient\n[CERTS]\nbrokercertchain=CA.crt\ncertfile=Client.CRT\nprivatekey=Client.Key\n[brokers]\nB=B;8883;Host.Example\n");
        var c = DxlClientConfig.Load(path);
        Assert.Equal("MyClient", c.ClientId);
        Assert.Equal(_dir.Combine("Client.CRT"), c.CertFilePath);
        Assert.Equal("Host.Example", c.Brokers[0].Host);
    }

    [Fact]
    public void RelativePathsResolveAgainstTheConfigFolderNotTheWorkingDirectory()
    {
        var path = _dir.Write(Path.Combine("sub", "dxlclient.config"),
            "[Certs]\nBrokerCertChain=../certs/ca.crt\nCertFile=client.crt\nPrivateKey=keys/client.key\n");
        var c = DxlClientConfig.Load(path);
        Assert.Equal(_dir.Combine("certs", "ca.crt"), c.BrokerCertChainPath);
        Assert.Equal(_dir.Combine("sub", "client.crt"), c.CertFilePath);
        Assert.Equal(_dir.Combine("sub", "keys", "client.key"), c.PrivateKeyPath);
    }

    [Fact]
    public void AbsolutePathsAreKept()
    {
        var abs = _dir.Combine("elsewhere", "ca.crt");
        var path = _dir.Write("dxlclient.config", $"[Certs]\nBrokerCertChain={abs}\nCertFile=c.crt\nPrivateKey=k.key\n");
        Assert.Equal(abs, DxlClientConfig.Load(path).BrokerCertChainPath);
    }

    [Fact]
    public void RelativeConfigPathIsMadeAbsolute()
    {
        var path = _dir.Write("dxlclient.config", Certs);
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        var c = DxlClientConfig.Load(relative);
        Assert.Equal(path, c.ConfigFilePath);
        Assert.Equal(_dir.Combine("ca.crt"), c.BrokerCertChainPath);
    }

    [Theory]
    [InlineData("yes", true)]
    [InlineData("YES", true)]
    [InlineData("on", true)]
    [InlineData("True", true)]
    [InlineData("1", true)]
    [InlineData("no", false)]
    [InlineData("Off", false)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    public void UseWebSocketsAcceptsEveryBooleanSpelling(string value, bool expected)
    {
        var path = _dir.Write("dxlclient.config", $"[General]\nUseWebSockets={value}\n{Certs}");
        Assert.Equal(expected, DxlClientConfig.Load(path).UseWebSockets);
    }

    [Fact]
    public void WebSocketSelection()
    {
        const string both = "[Brokers]\nm=m;8883;mqtt-host\n[BrokersWebSockets]\nw=w;443;ws-host\n";
        var c = DxlClientConfig.Load(_dir.Write("a.config", Certs + both));
        Assert.Equal("mqtt-host", Assert.Single(c.EffectiveBrokers).Host);

        c = DxlClientConfig.Load(_dir.Write("b.config", "[General]\nUseWebSockets=yes\n" + Certs + both));
        Assert.Equal("ws-host", Assert.Single(c.EffectiveBrokers).Host);
        Assert.True(c.EffectiveBrokers[0].IsWebSocket);

        c = DxlClientConfig.Load(_dir.Write("c.config", Certs + "[BrokersWebSockets]\nw=w;443;ws-host\n"));
        Assert.Null(c.UseWebSockets);
        Assert.Equal("ws-host", Assert.Single(c.EffectiveBrokers).Host);

        c = DxlClientConfig.Load(_dir.Write("d.config", "[General]\nUseWebSockets=false\n" + Certs + "[BrokersWebSockets]\nw=w;443;ws-host\n"));
        Assert.Empty(c.EffectiveBrokers);
    }

    [Fact]
    public void ReadsTheProxyAndNeverPrintsItsPassword()
    {
        var path = _dir.Write("dxlclient.config", Certs + "[Proxy]\nAddress=proxy.example.com\nPort=3128\nUser=alice\nPassword=s3cr3t-Pa55\n");
        var c = DxlClientConfig.Load(path);
        Assert.Equal(new DxlProxy("proxy.example.com", 3128, "alice", "s3cr3t-Pa55"), c.Proxy);
        Assert.DoesNotContain("s3cr3t", c.Proxy!.ToString());
        Assert.DoesNotContain("s3cr3t", c.ToString());
    }

    [Fact]
    public void EmptyProxySectionMeansNoProxy()
    {
        var path = _dir.Write("dxlclient.config", Certs + "[Proxy]\nAddress=\nPort=\nUser=\nPassword=\n");
        Assert.Null(DxlClientConfig.Load(path).Proxy);
    }

    [Fact]
    public void ProxyWithoutUserHasNullCredentials()
    {
        var path = _dir.Write("dxlclient.config", Certs + "[Proxy]\nAddress=10.0.0.9\nPort=8080\n");
        var p = DxlClientConfig.Load(path).Proxy!;
        Assert.Null(p.User);
        Assert.Null(p.Password);
        Assert.Equal("http://10.0.0.9:8080", p.ToString());
    }

    [Fact]
    public void OptionalGeneralSettings()
    {
        var path = _dir.Write("dxlclient.config",
            "[General]\nKeepAlive=60\nConnectRetries=-1\nStrictHostNameCheck=yes\nSomethingElse=ignored\n" + Certs + "PrivateKeyPassword=pw\n");
        var c = DxlClientConfig.Load(path);
        Assert.Equal(60, c.KeepAliveSeconds);
        Assert.Equal(-1, c.ConnectRetries);
        Assert.True(c.StrictHostNameCheck);
        Assert.Equal("pw", c.PrivateKeyPassword);
    }

    [Fact]
    public void DefaultsWhenGeneralIsAbsent()
    {
        var c = DxlClientConfig.Load(_dir.Write("dxlclient.config", Certs));
        Assert.Matches("^\\{[0-9a-f-]{36}\\}$", c.ClientId);
        Assert.Equal(1800, c.KeepAliveSeconds);
        Assert.False(c.StrictHostNameCheck);
        Assert.Empty(c.Brokers);
        Assert.Empty(c.WebSocketBrokers);
    }

    // ---- broken files -------------------------------------------------------------------------------------

    [Fact]
    public void MissingFile()
    {
        var path = _dir.Combine("nope.config");
        var e = Assert.Throws<DxlConfigException>(() => DxlClientConfig.Load(path));
        Assert.Equal(path, e.File);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void LineThatIsNotKeyValue()
    {
        var e = LoadFails("[General]\nClientId=x\njust some words\n" + Certs);
        Assert.Equal(3, e.Line);
        Assert.Contains($":3:", e.Message);
        Assert.Contains("neither 'key=value' nor a [section]", e.Message);
    }

    [Fact]
    public void SemicolonIsNotAComment()
    {
        var e = LoadFails("; a comment in other INI dialects\n" + Certs);
        Assert.Equal(1, e.Line);
    }

    [Theory]
    [InlineData("[Certs\n")]
    [InlineData("[]\n")]
    [InlineData("[Certs] trailing\n")]
    public void BadSectionHeader(string header)
    {
        var e = LoadFails("# first\n" + header + "BrokerCertChain=a\n");
        Assert.Equal(2, e.Line);
        Assert.Contains("section", e.Message);
    }

    [Fact]
    public void KeyWithoutSection()
    {
        var e = LoadFails("ClientId=x\n" + Certs);
        Assert.Equal(1, e.Line);
        Assert.Equal("ClientId", e.Setting);
    }

    [Fact]
    public void DuplicateSectionAndKey()
    {
        var e = LoadFails(Certs + "[Certs]\n");
        Assert.Equal(5, e.Line);
        Assert.Contains("twice", e.Message);

        e = LoadFails("[Certs]\nCertFile=a\ncertfile=b\n");
        Assert.Equal(3, e.Line);
        Assert.Contains("first on line 2", e.Message);
    }

    [Fact]
    public void UnclosedQuote()
    {
        var e = LoadFails("[General]\nClientId=\"abc\n" + Certs);
        Assert.Equal(2, e.Line);
        Assert.Equal("ClientId", e.Setting);
        Assert.Contains("not closed", e.Message);
    }

    [Fact]
    public void MissingCertsSection()
    {
        var e = LoadFails("[General]\nClientId=x\n");
        Assert.Contains("[Certs]", e.Message);
    }

    [Theory]
    [InlineData("BrokerCertChain")]
    [InlineData("CertFile")]
    [InlineData("PrivateKey")]
    public void MissingCertsKey(string key)
    {
        var lines = Certs.Split('\n').Where(l => !l.StartsWith(key + "=", StringComparison.Ordinal));
        var e = LoadFails(string.Join("\n", lines));
        Assert.Equal(key, e.Setting);
        Assert.Contains($"setting '{key}'", e.Message);
    }

    [Fact]
    public void EmptyCertsKey()
    {
        var e = LoadFails("[Certs]\nBrokerCertChain=ca.crt\nCertFile=\"\"\nPrivateKey=k\n");
        Assert.Equal("CertFile", e.Setting);
        Assert.Equal(3, e.Line);
        Assert.Contains("empty", e.Message);
    }

    [Theory]
    [InlineData("b1=b1;99999;host", "port '99999'")]
    [InlineData("b1=b1;8883", "no host name")]
    [InlineData("b1=host", "fewer than two")]
    public void BadBrokerLine(string line, string expected)
    {
        var e = LoadFails(Certs + "[Brokers]\nok=ok;8883;host\n" + line + "\n");
        Assert.Equal(7, e.Line);
        Assert.Equal("b1", e.Setting);
        Assert.Contains(expected, e.Message);
        Assert.Contains(":7, setting 'b1'", e.Message);
    }

    [Fact]
    public void BadWebSocketBrokerLine()
    {
        var e = LoadFails(Certs + "[BrokersWebSockets]\nw=w;0;host\n");
        Assert.Equal(6, e.Line);
        Assert.Equal("w", e.Setting);
    }

    [Fact]
    public void UseWebSocketsNotABoolean()
    {
        var e = LoadFails("[General]\nUseWebSockets=maybe\n" + Certs);
        Assert.Equal(2, e.Line);
        Assert.Equal("UseWebSockets", e.Setting);
        Assert.Contains("not a boolean", e.Message);
    }

    [Theory]
    [InlineData("Port=0\n")]
    [InlineData("Port=http\n")]
    [InlineData("Port=70000\n")]
    public void BadProxyPort(string portLine)
    {
        var e = LoadFails(Certs + "[Proxy]\nAddress=proxy\n" + portLine + "Password=hunter2\n");
        Assert.Equal("Port", e.Setting);
        Assert.Equal(7, e.Line);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void ProxyWithoutPort()
    {
        var e = LoadFails(Certs + "[Proxy]\nAddress=proxy\nPassword=hunter2\n");
        Assert.Equal("Port", e.Setting);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void BadKeepAlive()
    {
        var e = LoadFails("[General]\nKeepAlive=forever\n" + Certs);
        Assert.Equal("KeepAlive", e.Setting);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void PasswordLinesNeverAppearInErrors()
    {
        var e = LoadFails(Certs + "PrivateKeyPassword=topsecret\nbroken line\n");
        Assert.Equal(6, e.Line);
        Assert.DoesNotContain("topsecret", e.Message);
    }
}
