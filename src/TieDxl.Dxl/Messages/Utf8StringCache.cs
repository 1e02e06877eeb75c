using System.Text;

namespace TieDxl.Dxl.Messages;

/// <summary>
/// Strings decoded from UTF-8 that recur (peer ids, topics), kept in a small direct-mapped table: a value met again
/// costs a hash and a byte comparison instead of a new string. Thread-safe: a slot holds an immutable entry and is
/// replaced whole; a value is only returned when its bytes match. Hand-written because the runtime's caches key by
/// string, and the point is not to make the string.
/// </summary>
internal sealed class Utf8StringCache
{
    private sealed class Entry(byte[] utf8, string value)
    {
        public readonly byte[] Utf8 = utf8;
        public readonly string Value = value;
    }

    // Few distinct values recur per process (a client talks to a handful of brokers and services); a collision only
    // costs a decode.
    private const int Slots = 256;

    // Longer values are not ids: they are decoded each time rather than held.
    private const int MaxCachedBytes = 256;

    private readonly Entry?[] _slots = new Entry?[Slots];

    public string GetString(ReadOnlySpan<byte> utf8, Encoding encoding)
    {
        if (utf8.IsEmpty) return "";
        if (utf8.Length > MaxCachedBytes) return encoding.GetString(utf8);
        var hash = new HashCode();
        hash.AddBytes(utf8);
        ref var slot = ref _slots[hash.ToHashCode() & (Slots - 1)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8)) return entry.Value;
        var value = encoding.GetString(utf8);
        Volatile.Write(ref slot, new Entry(utf8.ToArray(), value));
        return value;
    }
}
