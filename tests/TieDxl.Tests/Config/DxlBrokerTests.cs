using TieDxl.Dxl;
using TieDxl.Dxl.Config;

namespace TieDxl.Tests.Config;

public class DxlBrokerTests
{
    [Theory]
    [InlineData("{abc};8883;broker1.example.com;10.0.0.1", "{abc}", "broker1.example.com", 8883, "10.0.0.1")]
    [InlineData("broker1;8883;broker1.example.com", "broker1", "broker1.example.com", 8883, null)]
    [InlineData("  b1 ; 8993 ;  host  ;  10.1.1.1  ", "b1", "host", 8993, "10.1.1.1")]
    [InlineData("8883;host", null, "host", 8883, null)]
    [InlineData("8883;host;10.0.0.2", null, "host", 8883, "10.0.0.2")]
    [InlineData("1;8883;host", "1", "host", 8883, null)]
    [InlineData("id;8883;[fe80::1];[fe80::2]", "id", "fe80::1", 8883, "fe80::2")]
    [InlineData("8883;[::1]", null, "::1", 8883, null)]
    [InlineData(";8883;host;", null, "host", 8883, null)]
    [InlineData("id;65535;h", "id", "h", 65535, null)]
    public void ParsesBrokerLines(string line, string? id, string host, int port, string? ip)
    {
        var b = DxlBroker.Parse(line);
        Assert.Equal(id, b.Id);
        Assert.Equal(host, b.Host);
        Assert.Equal(port, b.Port);
        Assert.Equal(ip, b.IpAddress);
        Assert.False(b.IsWebSocket);
    }

    [Fact]
    public void WebSocketFlagIsKept()
    {
        var b = DxlBroker.Parse("ws;443;host", webSocket: true);
        Assert.True(b.IsWebSocket);
        Assert.Equal("wss://host:443", b.ToString());
    }

    [Theory]
    [InlineData("host", "fewer than two")]
    [InlineData("", "fewer than two")]
    [InlineData("id;0;host", "the port '0'")]
    [InlineData("id;65536;host", "the port '65536'")]
    [InlineData("id;abc;host", "the port 'abc'")]
    [InlineData("id;-5;host", "the port '-5'")]
    [InlineData("id;8883", "no host name")]
    [InlineData("id;8883;  ;1.2.3.4", "no host name")]
    [InlineData("8883;[]", "no host name")]
    [InlineData("id;8883;host;ip;extra", "too many fields")]
    public void RejectsBadBrokerLines(string line, string expected)
    {
        var e = Assert.Throws<DxlConfigException>(() => DxlBroker.Parse(line));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("ssl://host:1234", "host", 1234, false)]
    [InlineData("ssl://host", "host", 8883, false)]
    [InlineData("host", "host", 8883, false)]
    [InlineData("host:99", "host", 99, false)]
    [InlineData("wss://host", "host", 443, true)]
    [InlineData("WSS://host:8443", "host", 8443, true)]
    [InlineData("ssl://[::1]:8883", "::1", 8883, false)]
    [InlineData("[fe80::1]", "fe80::1", 8883, false)]
    [InlineData("wss://[fe80::1]", "fe80::1", 443, true)]
    [InlineData("fe80::1", "fe80::1", 8883, false)]
    public void ParsesUrls(string url, string host, int port, bool ws)
    {
        var b = DxlBroker.ParseUrl(url);
        Assert.Null(b.Id);
        Assert.Equal(host, b.Host);
        Assert.Equal(port, b.Port);
        Assert.Equal(ws, b.IsWebSocket);
    }

    [Theory]
    [InlineData("tcp://host", "scheme 'tcp'")]
    [InlineData("ssl://host:0", "port '0'")]
    [InlineData("ssl://host:x", "port 'x'")]
    [InlineData("ssl://", "no host")]
    [InlineData("ssl://[::1", "without ']'")]
    [InlineData("wss://host/mqtt", "has a path")]
    public void RejectsBadUrls(string url, string expected)
    {
        var e = Assert.Throws<DxlConfigException>(() => DxlBroker.ParseUrl(url));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void UrlToStringRoundTrips()
    {
        var b = DxlBroker.ParseUrl("ssl://[::1]:9000");
        Assert.Equal("ssl://[::1]:9000", b.ToString());
        Assert.Equal(b, DxlBroker.ParseUrl(b.ToString()));
    }
}
