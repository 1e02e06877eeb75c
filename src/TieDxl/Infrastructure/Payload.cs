using System.Management.Automation;
using System.Text;

namespace TieDxl.Infrastructure;

/// <summary>
/// Payload conversions for the generic DXL cmdlets. JSON goes through PowerShell's own ConvertTo-Json /
/// ConvertFrom-Json (run in the caller's runspace, on the pipeline thread) so that hashtables and
/// PSCustomObjects come out the way PowerShell users expect.
/// </summary>
internal static class Payload
{
    public const int JsonDepth = 32;

    /// <summary>
    /// string → UTF-8, byte[] → as is, null → empty. Other objects → JSON when <paramref name="asJson"/>,
    /// else an <see cref="ArgumentException"/>.
    /// </summary>
    public static byte[] ToBytes(object? payload, bool asJson)
    {
        var value = payload is PSObject pso ? pso.BaseObject : payload;
        switch (value)
        {
            case null:
                return Array.Empty<byte>();
            case byte[] bytes:
                return bytes;
            case string s:
                return Encoding.UTF8.GetBytes(s);
            case object[] arr when arr.All(o => (o is PSObject p ? p.BaseObject : o) is byte):
                // "-Payload (1,2,3)" or bytes that went through the pipeline as object[]
                return arr.Select(o => (byte)(o is PSObject p ? p.BaseObject : o)).ToArray();
        }
        if (!asJson)
        {
            throw new ArgumentException(
                $"A payload of type {value.GetType().FullName} is neither a string nor a byte array. Add -AsJson to send it as JSON, or convert it first.");
        }
        return Encoding.UTF8.GetBytes(ToJson(payload!));
    }

    public static string ToJson(object value)
    {
        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddCommand("Microsoft.PowerShell.Utility\\ConvertTo-Json")
          .AddParameter("InputObject", value)
          .AddParameter("Depth", JsonDepth)
          .AddParameter("Compress");
        var result = ps.Invoke();
        ThrowOnErrors(ps, "ConvertTo-Json");
        return string.Concat(result.Select(r => r?.ToString()));
    }

    /// <summary>Parses JSON text like ConvertFrom-Json. Throws <see cref="FormatException"/> on invalid JSON.</summary>
    public static IReadOnlyList<object?> FromJson(string json)
    {
        if (string.IsNullOrWhiteSpace(json)) return Array.Empty<object?>();
        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddCommand("Microsoft.PowerShell.Utility\\ConvertFrom-Json").AddParameter("InputObject", json);
        try
        {
            var result = ps.Invoke();
            ThrowOnErrors(ps, "ConvertFrom-Json");
            return result.Select(r => (object?)r).ToArray();
        }
        catch (RuntimeException ex)
        {
            throw new FormatException("The payload is not valid JSON: " + ex.Message, ex);
        }
    }

    private static void ThrowOnErrors(PowerShell ps, string what)
    {
        if (ps.HadErrors && ps.Streams.Error.Count > 0)
        {
            var first = ps.Streams.Error[0];
            throw new FormatException($"{what} failed: {first.Exception?.Message ?? first.ToString()}", first.Exception);
        }
    }

    /// <summary>Short description of a payload for ShouldProcess and errors.</summary>
    public static string Describe(byte[] bytes) => bytes.Length == 1 ? "1 byte" : $"{bytes.Length} bytes";
}
