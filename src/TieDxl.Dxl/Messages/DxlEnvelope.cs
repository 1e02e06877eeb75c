namespace TieDxl.Dxl.Messages;

/// <summary>
/// Encodes and decodes the DXL msgpack envelope (shared spec §2): a plain sequence of msgpack items,
/// old-spec string family only (fixstr/str16/str32, never str8 or bin) so the OpenDXL broker accepts it.
/// </summary>
public static class DxlEnvelope
{
    /// <summary>Encodes <paramref name="message"/> at <paramref name="version"/> (default: the message's own).</summary>
    public static byte[] Encode(DxlMessage message, int? version = null) => throw new NotImplementedException();

    /// <summary>
    /// Decodes envelope bytes. Accepts versions 0 and up (ignoring trailing items), any str/bin form and nil
    /// for strings, any integer form. Throws only <see cref="DxlEnvelopeException"/> on malformed input.
    /// </summary>
    public static DxlMessage Decode(ReadOnlyMemory<byte> bytes, string destinationTopic = "") => throw new NotImplementedException();
}
