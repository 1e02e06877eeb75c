using System.Text;
using TieDxl.Dxl.Messages;

namespace TieDxl.Tests.Envelope;

/// <summary>The decoder's table of recurring strings: the same string for the same bytes, the right one for any bytes.</summary>
public class Utf8StringCacheTests
{
    private static readonly UTF8Encoding Lenient = new(false, false);

    [Fact]
    public void TheSameBytesGiveTheSameStringAndOtherBytesTheirOwn()
    {
        var cache = new Utf8StringCache();
        var first = cache.GetString("{broker-1}"u8, Lenient);
        Assert.Same(first, cache.GetString("{broker-1}"u8, Lenient));
        Assert.Equal("{broker-2}", cache.GetString("{broker-2}"u8, Lenient));
        Assert.Equal("", cache.GetString(ReadOnlySpan<byte>.Empty, Lenient));
    }

    [Fact]
    public void EveryValueDecodesCorrectlyWhateverCollidesAndInvalidBytesAsReplacements()
    {
        var cache = new Utf8StringCache();
        // Far more values than slots, twice over: collisions replace entries, never answer with another value.
        for (var round = 0; round < 2; round++)
            for (var i = 0; i < 2000; i++)
                Assert.Equal($"client-{i}", cache.GetString(Encoding.UTF8.GetBytes($"client-{i}"), Lenient));
        Assert.Equal("a\uFFFDb", cache.GetString(new byte[] { (byte)'a', 0xFF, (byte)'b' }, Lenient));
        var longValue = new string('x', 1000);
        Assert.Equal(longValue, cache.GetString(Encoding.UTF8.GetBytes(longValue), Lenient));
    }

    [Fact]
    public void DecodedAnswersShareTheirRecurringIdsButNotTheirMessageIds()
    {
        var request = new DxlRequest("/svc", "{}"u8.ToArray()) { SourceClientId = "{client}", ReplyToTopic = "/mcafee/client/{client}" };
        var first = (DxlResponse)DxlEnvelope.Decode(DxlEnvelope.Encode(new DxlResponse(request) { SourceBrokerId = "{broker}", ServiceId = "{svc}" }));
        var second = (DxlResponse)DxlEnvelope.Decode(DxlEnvelope.Encode(new DxlResponse(request) { SourceBrokerId = "{broker}", ServiceId = "{svc}" }));
        Assert.Same(first.SourceBrokerId, second.SourceBrokerId);
        Assert.Same(first.ServiceId, second.ServiceId);
        Assert.Same(first.ClientIds[0], second.ClientIds[0]);
        Assert.NotEqual(first.MessageId, second.MessageId);
        // A list the wire left empty is still a list a caller can add to.
        Assert.Empty(first.OtherFields);
        first.OtherFields.Add(new("k", "v"));
        Assert.Single(first.OtherFields);
    }
}
