using System.Text.Json;
using TieDxl.Dxl;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Provisioning;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Config;

namespace TieDxl.Tests.Provisioning;

/// <summary>The answer forms of ePO, brokerlist.properties as the console exports it, and configs from exported files.</summary>
public sealed class ProvisioningParsingTests
{
    [Theory]
    [InlineData("OK:\r\n\"x\"\r\n", "\"x\"")]
    [InlineData("OK: \"x\"", "\"x\"")]
    [InlineData("OK:\n[1]\n", "[1]")]
    public void OkIsTheStatusWordBeforeTheFirstColonAndTheRestTrimmedIsJson(string body, string json)
    {
        var answer = EpoAnswers.Classify(body)!;
        Assert.True(answer.IsOk);
        Assert.Equal(json, answer.Json);
    }

    [Theory]
    [InlineData("Error 0: For input string: \"x\"\r\n", 0, "For input string: \"x\"")]
    [InlineData("Error 403: denied", 403, "denied")]
    [InlineData("Error -1:", -1, "")]
    public void ErrorBodiesCarryTheirNumberAndText(string body, int code, string text)
    {
        var answer = EpoAnswers.Classify(body)!;
        Assert.False(answer.IsOk);
        Assert.Equal(code, answer.ErrorCode);
        Assert.Equal(text, answer.ErrorText);
    }

    [Theory]
    [InlineData("ok: \"x\"")]
    [InlineData(" OK :\n[1]\n")]
    [InlineData("OKAY: \"x\"")]
    [InlineData("<html>title: x</html>")]
    [InlineData("no colon at all")]
    [InlineData("Error x: y")]
    public void AnythingElseIsNotAnEpoAnswer(string body)
    {
        Assert.Null(EpoAnswers.Classify(body));
    }

    [Fact]
    public void TheBrokerListIsDoubleEncodedWithStringOrNumberPorts()
    {
        var inner = "{\"brokers\": [{\"guid\": \"{b1}\", \"hostName\": \"broker1\", \"ipAddress\": \"10.0.0.1\", \"port\": \"8883\"}," +
                    "{\"guid\": \"{b2}\", \"hostName\": \"broker2\", \"ipAddress\": \"\", \"port\": 8993}]," +
                    "\"webSocketBrokers\": [{\"guid\": \"{w1}\", \"hostName\": \"broker1\", \"ipAddress\": \"10.0.0.1\", \"port\": \"443\"}], \"certVersion\": 3}";
        var json = JsonSerializer.Serialize(inner);

        var list = EpoAnswers.ParseBrokerList(EpoAnswers.DecodeJsonString(json, "the answer"));

        Assert.Equal(new[] { new DxlBroker("{b1}", "broker1", 8883, "10.0.0.1"), new DxlBroker("{b2}", "broker2", 8993) }, list.Brokers);
        Assert.Equal(new[] { new DxlBroker("{w1}", "broker1", 443, "10.0.0.1", true) }, list.WebSocketBrokers);
        Assert.Equal(3, list.CertVersion);
    }

    [Fact]
    public void ABrokerListWithoutWebSocketBrokersHasNone()
    {
        var list = EpoAnswers.ParseBrokerList("{\"brokers\": [{\"guid\": \"{b1}\", \"hostName\": \"h\", \"port\": \"1\"}]}");
        Assert.Empty(list.WebSocketBrokers);
        Assert.Single(list.Brokers);
    }

    [Theory]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{}", "no 'brokers' array")]
    [InlineData("{\"brokers\": [{\"hostName\": \"h\", \"port\": 1}]}", "has no 'guid'")]
    [InlineData("{\"brokers\": [{\"guid\": \"g\", \"hostName\": \"h\", \"port\": \"0\"}]}", "the port '0'")]
    [InlineData("{\"brokers\": [{\"guid\": \"g\", \"hostName\": \"h\", \"port\": true}]}", "neither a number nor a string")]
    public void ABadBrokerListSaysWhatIsWrong(string decoded, string expected)
    {
        var e = Assert.Throws<FormatException>(() => EpoAnswers.ParseBrokerList(decoded));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void BrokerLinesTolerateCrlfAndEmptyLines()
    {
        var brokers = EpoAnswers.ParseBrokerLines("{a}={a};8883;h1;10.0.0.1\r\n\r\n{b}={b};8884;h2\n", false, "lines");
        Assert.Equal(new[] { new DxlBroker("{a}", "h1", 8883, "10.0.0.1"), new DxlBroker("{b}", "h2", 8884) }, brokers);
    }

    [Fact]
    public void EveryPemBlockOfABundleMustBeACertificate()
    {
        using var pki = DxlTestPki.Create();
        var good = pki.Ca.CertificatePem() + pki.Client.CertificatePem();
        Assert.Equal(2, EpoAnswers.ParseCertificates(good, "b").Count);
        var e = Assert.Throws<FormatException>(() => EpoAnswers.ParseCertificates(good + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "the bundle"));
        Assert.Contains("certificate #3 of the bundle", e.Message);
        Assert.Throws<FormatException>(() => EpoAnswers.ParseCertificates("nothing here", "b"));
    }

    [Fact]
    public void BrokerListPropertiesAsTheConsoleExportsThem()
    {
        const string text = "#Tue Dec 01 10:00:00 UTC 2026\n\n" +
                            "{11111111-1111-1111-1111-111111111111}={11111111-1111-1111-1111-111111111111};8883;broker1.example.test;10.0.0.1\n" +
                            "! another comment\n" +
                            "{22222222-2222-2222-2222-222222222222}={22222222-2222-2222-2222-222222222222};8993;broker2.example.test\n\n";

        var brokers = BrokerListProperties.Parse(text, "brokerlist.properties");

        Assert.Equal(new[]
        {
            new DxlBroker("{11111111-1111-1111-1111-111111111111}", "broker1.example.test", 8883, "10.0.0.1"),
            new DxlBroker("{22222222-2222-2222-2222-222222222222}", "broker2.example.test", 8993),
        }, brokers);
    }

    [Fact]
    public void PropertiesEscapesSeparatorsAndContinuationsAreReadAsJavaReadsThem()
    {
        const string text = "#date line\r\n" +
                            "   {a}={a};8883;broker\\u002Done;10.0.0.1\r\n" +
                            "{b}\\:x: {b}\\:x;8884;\\\r\n    broker-two\r\n" +
                            "{c} {c};8885;broker\\\\three\r\n";

        var brokers = BrokerListProperties.Parse(text, "f");

        Assert.Equal(new[]
        {
            new DxlBroker("{a}", "broker-one", 8883, "10.0.0.1"),
            new DxlBroker("{b}:x", "broker-two", 8884),
            new DxlBroker("{c}", "broker\\three", 8885),
        }, brokers);
    }

    [Theory]
    [InlineData("{a}={b};8883;h\n", "differs from the broker id")]
    [InlineData("{a}={a};port;h\n", "the port 'port'")]
    [InlineData("{a}={a};8883;h\n{a}={a};8884;h\n", "listed twice")]
    [InlineData("{a}={a};8883;h\\u12\n", "four hexadecimal digits")]
    public void BadPropertiesNameTheLine(string text, string expected)
    {
        var e = Assert.Throws<DxlConfigException>(() => BrokerListProperties.Parse(text, "brokerlist.properties"));
        Assert.Contains(expected, e.Message);
        Assert.Contains("brokerlist.properties:", e.Message);
    }

    [Fact]
    public void AConfigFromExportedFilesCopiesThemIntoTheReferenceLayout()
    {
        using var pki = DxlTestPki.Create(DxlTestKeyAlgorithm.Rsa2048);
        using var exported = new TempFolder();
        using var target = new TempFolder();
        var brokers = exported.Write("brokerlist.properties", "#Tue Dec 01 2026\n{b1}={b1};8883;broker1;10.0.0.1\n");
        var ca = exported.Write("brokercerts.crt", pki.Ca.CertificatePem());
        var cert = exported.Write("mine.crt", pki.Client.CertificatePem());
        var key = exported.Combine("mine.key");
        pki.Client.WritePrivateKey(key);

        var files = DxlClientConfigWriter.Write(DxlClientConfigWriter.PlanFromExportedFiles(target.Path, brokers, ca, cert, key));

        Assert.Equal("[Certs]\nBrokerCertChain = ca-bundle.crt\nCertFile = client.crt\nPrivateKey = client.key\n\n[Brokers]\n{b1} = {b1};8883;broker1;10.0.0.1\n\n[BrokersWebSockets]\n\n[General]\n#UseWebSockets = False\n",
            File.ReadAllText(files.ConfigPath));
        Assert.Equal(File.ReadAllBytes(ca), File.ReadAllBytes(files.CaBundlePath));
        Assert.Equal(File.ReadAllBytes(cert), File.ReadAllBytes(files.CertificatePath));
        Assert.Equal(File.ReadAllBytes(key), File.ReadAllBytes(files.PrivateKeyPath));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.PrivateKeyPath));
        var config = DxlClientConfig.Load(files.ConfigPath);
        Assert.Equal(files.PrivateKeyPath, config.PrivateKeyPath);
        Assert.True(config.GetClientCertificate().HasPrivateKey);
    }

    [Fact]
    public void ExportedFilesThatDoNotBelongTogetherWriteNothing()
    {
        using var pki = DxlTestPki.Create();
        using var exported = new TempFolder();
        using var target = new TempFolder();
        var brokers = exported.Write("brokerlist.properties", "{b1}={b1};8883;broker1\n");
        var ca = exported.Write("brokercerts.crt", pki.Ca.CertificatePem());
        var cert = exported.Write("client.crt", pki.Client.CertificatePem());
        var otherKey = exported.Combine("other.key");
        pki.IssueClient("other").WritePrivateKey(otherKey);

        var e = Assert.Throws<DxlConfigException>(() => DxlClientConfigWriter.PlanFromExportedFiles(target.Path, brokers, ca, cert, otherKey));

        Assert.Contains("does not match", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(target.Path));
        var badCa = exported.Write("bad.crt", "not a certificate");
        Assert.Throws<DxlConfigException>(() => DxlClientConfigWriter.PlanFromExportedFiles(target.Path, brokers, badCa, cert, otherKey));
        Assert.Empty(Directory.GetFileSystemEntries(target.Path));
    }

    [Fact]
    public void UpdatingAConfigWithoutABrokersSectionAddsOne()
    {
        using var pki = DxlTestPki.Create();
        using var folder = new TempFolder();
        folder.Write("ca.crt", "old");
        var path = folder.Write("dxlclient.config", "[Certs]\nBrokerCertChain=ca.crt\nCertFile=c.crt\nPrivateKey=c.key\n");

        var plan = DxlClientConfigUpdater.Plan(path, pki.Ca.CertificatePem(), new EpoBrokerList(new[] { new DxlBroker("{n}", "h", 8883) }, Array.Empty<DxlBroker>(), 0));

        Assert.Equal("[Certs]\nBrokerCertChain=ca.crt\nCertFile=c.crt\nPrivateKey=c.key\n\n[Brokers]\n{n} = {n};8883;h\n", plan.NewConfigText);
        Assert.Equal("old", File.ReadAllText(folder.Combine("ca.crt")));
        DxlClientConfigUpdater.Apply(plan);
        Assert.Equal(pki.Ca.CertificatePem(), File.ReadAllText(folder.Combine("ca.crt")));
        Assert.Equal(plan.NewConfigText, File.ReadAllText(path));
    }

    [Fact]
    public void AnUpdateWithABadCaBundleOrNoBrokersWritesNothing()
    {
        using var folder = new TempFolder();
        var config = "[Certs]\nBrokerCertChain=ca.crt\nCertFile=c.crt\nPrivateKey=c.key\n[Brokers]\n{a}={a};1;h\n";
        var path = folder.Write("dxlclient.config", config);
        using var pki = DxlTestPki.Create();

        Assert.Throws<DxlProvisioningException>(() => DxlClientConfigUpdater.Plan(path, "garbage", new EpoBrokerList(new[] { new DxlBroker("{a}", "h", 1) }, Array.Empty<DxlBroker>(), 0)));
        Assert.Throws<DxlProvisioningException>(() => DxlClientConfigUpdater.Plan(path, pki.Ca.CertificatePem(), new EpoBrokerList(Array.Empty<DxlBroker>(), Array.Empty<DxlBroker>(), 0)));
        Assert.Equal(config, File.ReadAllText(path));
        Assert.False(File.Exists(folder.Combine("ca.crt")));
    }
}
