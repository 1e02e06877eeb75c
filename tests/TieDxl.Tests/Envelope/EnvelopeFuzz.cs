using System.Buffers;
using TieDxl.Dxl;
using TieDxl.Dxl.Messages;

namespace TieDxl.Tests.Envelope;

/// <summary>Outcome of a fuzz campaign.</summary>
public sealed record EnvelopeFuzzResult(int Cases, int Decoded, int Rejected, long MaxAllocatedBytes, string? Failure);

/// <summary>
/// Deterministic fuzzer for <see cref="DxlEnvelope.Decode(ReadOnlyMemory{byte}, string)"/>: only
/// <see cref="DxlEnvelopeException"/> may escape and no case may allocate far beyond its input size.
/// Public and static so a benchmark can run a longer campaign with another seed.
/// </summary>
public static class EnvelopeFuzz
{
    /// <summary>Allowed allocation per case: generous multiple of the input plus fixed overhead (exceptions, lists).</summary>
    public static long AllocationBudget(int inputLength) => 64 * 1024 + 16L * inputLength;

    public static EnvelopeFuzzResult Run(int seed, int cases, IReadOnlyList<byte[]> seeds, bool checkAllocations = true)
    {
        var rng = new Random(seed);
        int decoded = 0, rejected = 0;
        long maxAlloc = 0;
        var scratch = new byte[4096];
        for (int i = 0; i < cases; i++)
        {
            byte[] input = Generate(rng, seeds, i);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var m = DxlEnvelope.Decode(input, "/fuzz");
                decoded++;
                // Whatever decodes must also re-encode without surprises (nil strings, odd lists...).
                if (m.Version <= DxlEnvelope.MaxEncodeVersion) DxlEnvelope.Encode(m);
            }
            catch (DxlEnvelopeException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                return new EnvelopeFuzzResult(i + 1, decoded, rejected, maxAlloc,
                    $"case {i}: {ex.GetType().Name}: {ex.Message} input={Convert.ToHexString(input)}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > maxAlloc) maxAlloc = allocated;
            if (checkAllocations && allocated > AllocationBudget(input.Length) * 2 + 4L * input.Length)
            {
                return new EnvelopeFuzzResult(i + 1, decoded, rejected, maxAlloc,
                    $"case {i}: allocated {allocated} bytes for a {input.Length}-byte input: {Convert.ToHexString(input.AsSpan(0, Math.Min(64, input.Length)))}");
            }
        }
        return new EnvelopeFuzzResult(cases, decoded, rejected, maxAlloc, null);
    }

    private static byte[] Generate(Random rng, IReadOnlyList<byte[]> seeds, int i)
    {
        // One case in five is random bytes (half with a plausible version/type prefix to get past item 2).
        if (seeds.Count == 0 || i % 5 == 0)
        {
            var b = new byte[rng.Next(0, 300)];
            rng.NextBytes(b);
            if (b.Length >= 2 && (i & 1) == 0)
            {
                b[0] = (byte)rng.Next(0, 5);
                b[1] = (byte)rng.Next(0, 4);
            }
            return b;
        }
        var src = seeds[rng.Next(seeds.Count)];
        int mutations = 1 + rng.Next(3);
        byte[] cur = src;
        for (int k = 0; k < mutations; k++) cur = Mutate(rng, cur);
        return cur;
    }

    private static readonly byte[][] Inflations =
    {
        new byte[] { 0xdb, 0x7f, 0xff, 0xff, 0xff }, // str32 of 2 GiB
        new byte[] { 0xdb, 0xff, 0xff, 0xff, 0xff }, // str32 of 4 GiB (negative as int)
        new byte[] { 0xc6, 0x7f, 0xff, 0xff, 0xff }, // bin32
        new byte[] { 0xdd, 0x7f, 0xff, 0xff, 0xff }, // array32
        new byte[] { 0xdd, 0xff, 0xff, 0xff, 0xff },
        new byte[] { 0xda, 0xff, 0xff },             // str16
        new byte[] { 0xdc, 0xff, 0xff },             // array16
        new byte[] { 0xd9, 0xff },                   // str8
        new byte[] { 0xdf, 0x7f, 0xff, 0xff, 0xff }, // map32 where nothing expects a map
        new byte[] { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, // uint64 max
        new byte[] { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 },                     // int64 min
        new byte[] { 0xc7, 0xff, 0x01 },             // ext8
    };

    private static byte[] Mutate(Random rng, byte[] src)
    {
        switch (rng.Next(7))
        {
            case 0: // bit flips
            {
                if (src.Length == 0) return src;
                var b = (byte[])src.Clone();
                int flips = 1 + rng.Next(4);
                for (int f = 0; f < flips; f++) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            }
            case 1: // truncation
                return src.AsSpan(0, rng.Next(0, src.Length + 1)).ToArray();
            case 2: // byte insertion
            {
                int at = rng.Next(0, src.Length + 1);
                int n = 1 + rng.Next(4);
                var b = new byte[src.Length + n];
                src.AsSpan(0, at).CopyTo(b);
                for (int k = 0; k < n; k++) b[at + k] = (byte)rng.Next(256);
                src.AsSpan(at).CopyTo(b.AsSpan(at + n));
                return b;
            }
            case 3: // length-field inflation at a real item header
            {
                var offsets = ItemOffsets(src);
                if (offsets.Count == 0) return src;
                return InflateAt(src, offsets[rng.Next(offsets.Count)], rng);
            }
            case 4: // inflation header dropped anywhere (overwriting)
                return src.Length == 0 ? src : InflateAt(src, rng.Next(src.Length), rng);
            case 5: // random byte replacement
            {
                if (src.Length == 0) return src;
                var b = (byte[])src.Clone();
                b[rng.Next(b.Length)] = (byte)rng.Next(256);
                return b;
            }
            default: // byte deletion
            {
                if (src.Length == 0) return src;
                int at = rng.Next(src.Length);
                var b = new byte[src.Length - 1];
                src.AsSpan(0, at).CopyTo(b);
                src.AsSpan(at + 1).CopyTo(b.AsSpan(at));
                return b;
            }
        }
    }

    private static byte[] InflateAt(byte[] src, int at, Random rng)
    {
        var header = Inflations[rng.Next(Inflations.Length)];
        var b = (byte[])src.Clone();
        if (b.Length < at + header.Length) Array.Resize(ref b, at + header.Length);
        header.CopyTo(b, at);
        return b;
    }

    /// <summary>Start offsets of every msgpack header in an envelope (top-level items and array elements).</summary>
    private static List<int> ItemOffsets(byte[] src)
    {
        var offsets = new List<int>();
        try
        {
            var r = new MessagePack.MessagePackReader(src);
            for (int guard = 0; !r.End && guard < 10_000; guard++)
            {
                offsets.Add((int)r.Consumed);
                if (r.NextMessagePackType == MessagePack.MessagePackType.Array) r.ReadArrayHeader();
                else r.Skip();
            }
        }
        catch (Exception)
        {
            // Already-mutated input: the offsets found so far are good enough.
        }
        return offsets;
    }
}
