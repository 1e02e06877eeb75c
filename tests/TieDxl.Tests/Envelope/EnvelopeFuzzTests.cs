using Xunit.Abstractions;
using System.Diagnostics;

namespace TieDxl.Tests.Envelope;

public class EnvelopeFuzzTests
{
    private readonly ITestOutputHelper _out;

    public EnvelopeFuzzTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void HundredThousandMalformedEnvelopesOnlyThrowEnvelopeException()
    {
        var seeds = DxlVectors.AllEncoded();
        var sw = Stopwatch.StartNew();
        var result = EnvelopeFuzz.Run(seed: 20261129, cases: 100_000, seeds);
        sw.Stop();
        _out.WriteLine($"{result} in {sw.ElapsedMilliseconds} ms");
        Assert.Null(result.Failure);
        Assert.Equal(100_000, result.Cases);
        // Sanity: the mutations must exercise both outcomes.
        Assert.True(result.Decoded > 1000, $"only {result.Decoded} decoded");
        Assert.True(result.Rejected > 10_000, $"only {result.Rejected} rejected");
    }
}
