using System.Globalization;

namespace TieDxl.Tie;

/// <summary>Attribute keys shared by file and certificate Enterprise reputations.</summary>
public static class EnterpriseAttrib
{
    /// <summary>Encoded TIE server version (see <see cref="TieAttributeDecoding.ToVersionString"/>).</summary>
    public const string ServerVersion = "2139285";
}

/// <summary>Attribute keys of the file Enterprise reputation (provider 3).</summary>
public static class FileEnterpriseAttrib
{
    public const string ServerVersion = EnterpriseAttrib.ServerVersion;
    public const string FirstContact = "2102165";
    public const string Prevalence = "2101652";
    public const string EnterpriseSize = "2111893";
    public const string MinLocalRep = "2112148";
    public const string MaxLocalRep = "2112404";
    public const string AvgLocalRep = "2112660";
    public const string ParentMinLocalRep = "2112916";
    public const string ParentMaxLocalRep = "2113172";
    public const string ParentAvgLocalRep = "2113428";
    public const string DetectionCount = "2113685";
    public const string LastDetectionTime = "2113942";
    public const string FileNameCount = "2114965";
    public const string IsPrevalent = "2123156";
    public const string ChildFileReps = "2138520";
    public const string ParentFileReps = "2138264";
}

/// <summary>Attribute keys of the certificate Enterprise reputation (provider 4).</summary>
public static class CertEnterpriseAttrib
{
    public const string ServerVersion = EnterpriseAttrib.ServerVersion;
    public const string FirstContact = "2109589";
    public const string Prevalence = "2109333";
    public const string HasFileOverrides = "2122901";
    public const string IsPrevalent = "2125972";
}

/// <summary>Attribute keys shared by the GTI reputations of files and certificates.</summary>
public static class GtiAttrib
{
    public const string OriginalResponse = "2120340";
}

/// <summary>Attribute keys of the file GTI reputation (provider 1).</summary>
public static class FileGtiAttrib
{
    public const string OriginalResponse = GtiAttrib.OriginalResponse;
    public const string FirstContact = "2101908";
    public const string Prevalence = "2102421";
}

/// <summary>Attribute keys of the certificate GTI reputation (provider 2).</summary>
public static class CertGtiAttrib
{
    public const string OriginalResponse = GtiAttrib.OriginalResponse;
    public const string FirstContact = "2109077";
    public const string Prevalence = "2108821";
    public const string Revoked = "2117524";
}

/// <summary>Attribute keys of the ATD reputation (provider 5); scores are <see cref="AtdTrustLevel"/> values.</summary>
public static class AtdAttrib
{
    public const string GamScore = "4194962";
    public const string AvEngineScore = "4195218";
    public const string SandboxScore = "4195474";
    public const string Verdict = "4195730";
    public const string Behaviors = "4197784";
}

/// <summary>How an attribute value is best read.</summary>
public enum TieAttributeKind
{
    /// <summary>Unknown or free text: keep the string.</summary>
    Text,
    Integer,
    /// <summary>Seconds since 1970 UTC.</summary>
    EpochSeconds,
    /// <summary>A 0/1 flag.</summary>
    Flag,
    /// <summary>Encoded server version (major.minor.patch.build).</summary>
    Version,
    /// <summary>Base64 of little-endian uint16 values (count, max, min, last, average).</summary>
    Aggregate,
    /// <summary>An <see cref="AtdTrustLevel"/> value.</summary>
    AtdTrustLevel,
}

/// <summary>Which family of reputation an attribute belongs to.</summary>
public enum TieAttributeClass
{
    Unknown,
    FileEnterprise,
    FileGti,
    CertEnterprise,
    CertGti,
    Atd,
}

/// <summary>Attribute id → readable name and kind, per attribute class. Unknown ids stay raw.</summary>
public static class TieAttributeNames
{
    private static readonly Dictionary<string, (string Name, TieAttributeKind Kind)> FileEnterprise = new(StringComparer.Ordinal)
    {
        [FileEnterpriseAttrib.ServerVersion] = ("ServerVersion", TieAttributeKind.Version),
        [FileEnterpriseAttrib.FirstContact] = ("FirstContact", TieAttributeKind.EpochSeconds),
        [FileEnterpriseAttrib.Prevalence] = ("Prevalence", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.EnterpriseSize] = ("EnterpriseSize", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.MinLocalRep] = ("MinLocalRep", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.MaxLocalRep] = ("MaxLocalRep", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.AvgLocalRep] = ("AvgLocalRep", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.ParentMinLocalRep] = ("ParentMinLocalRep", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.ParentMaxLocalRep] = ("ParentMaxLocalRep", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.ParentAvgLocalRep] = ("ParentAvgLocalRep", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.DetectionCount] = ("DetectionCount", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.LastDetectionTime] = ("LastDetectionTime", TieAttributeKind.EpochSeconds),
        [FileEnterpriseAttrib.FileNameCount] = ("FileNameCount", TieAttributeKind.Integer),
        [FileEnterpriseAttrib.IsPrevalent] = ("IsPrevalent", TieAttributeKind.Flag),
        [FileEnterpriseAttrib.ChildFileReps] = ("ChildFileReps", TieAttributeKind.Aggregate),
        [FileEnterpriseAttrib.ParentFileReps] = ("ParentFileReps", TieAttributeKind.Aggregate),
    };

    private static readonly Dictionary<string, (string Name, TieAttributeKind Kind)> FileGti = new(StringComparer.Ordinal)
    {
        [FileGtiAttrib.OriginalResponse] = ("GtiOriginalResponse", TieAttributeKind.Integer),
        [FileGtiAttrib.FirstContact] = ("GtiFirstContact", TieAttributeKind.EpochSeconds),
        [FileGtiAttrib.Prevalence] = ("GtiPrevalence", TieAttributeKind.Integer),
    };

    private static readonly Dictionary<string, (string Name, TieAttributeKind Kind)> CertEnterprise = new(StringComparer.Ordinal)
    {
        [CertEnterpriseAttrib.ServerVersion] = ("ServerVersion", TieAttributeKind.Version),
        [CertEnterpriseAttrib.FirstContact] = ("FirstContact", TieAttributeKind.EpochSeconds),
        [CertEnterpriseAttrib.Prevalence] = ("Prevalence", TieAttributeKind.Integer),
        [CertEnterpriseAttrib.HasFileOverrides] = ("HasFileOverrides", TieAttributeKind.Flag),
        [CertEnterpriseAttrib.IsPrevalent] = ("IsPrevalent", TieAttributeKind.Flag),
    };

    private static readonly Dictionary<string, (string Name, TieAttributeKind Kind)> CertGti = new(StringComparer.Ordinal)
    {
        [CertGtiAttrib.OriginalResponse] = ("GtiOriginalResponse", TieAttributeKind.Integer),
        [CertGtiAttrib.FirstContact] = ("GtiFirstContact", TieAttributeKind.EpochSeconds),
        [CertGtiAttrib.Prevalence] = ("GtiPrevalence", TieAttributeKind.Integer),
        [CertGtiAttrib.Revoked] = ("Revoked", TieAttributeKind.Flag),
    };

    private static readonly Dictionary<string, (string Name, TieAttributeKind Kind)> Atd = new(StringComparer.Ordinal)
    {
        [AtdAttrib.GamScore] = ("GamScore", TieAttributeKind.AtdTrustLevel),
        [AtdAttrib.AvEngineScore] = ("AvEngineScore", TieAttributeKind.AtdTrustLevel),
        [AtdAttrib.SandboxScore] = ("SandboxScore", TieAttributeKind.AtdTrustLevel),
        [AtdAttrib.Verdict] = ("Verdict", TieAttributeKind.AtdTrustLevel),
        [AtdAttrib.Behaviors] = ("Behaviors", TieAttributeKind.Text),
    };

    private static readonly Dictionary<string, (string Name, TieAttributeKind Kind)>[] All = { FileEnterprise, FileGti, CertEnterprise, CertGti, Atd };

    /// <summary>The attribute class of a provider's reputation.</summary>
    public static TieAttributeClass ClassOf(int providerId, bool certificate) => (providerId, certificate) switch
    {
        (1, false) => TieAttributeClass.FileGti,
        (3, false) => TieAttributeClass.FileEnterprise,
        (5, false) => TieAttributeClass.Atd,
        (2, _) => TieAttributeClass.CertGti,
        (4, _) => TieAttributeClass.CertEnterprise,
        (1, true) => TieAttributeClass.CertGti,
        (3, true) => TieAttributeClass.CertEnterprise,
        _ => TieAttributeClass.Unknown,
    };

    /// <summary>
    /// The readable name and kind of an attribute id within a class; ids not in that class are looked up in the
    /// other classes; an id known nowhere gives (id, Text).
    /// </summary>
    public static (string Name, TieAttributeKind Kind) Lookup(TieAttributeClass cls, string id)
    {
        var table = cls switch
        {
            TieAttributeClass.FileEnterprise => FileEnterprise,
            TieAttributeClass.FileGti => FileGti,
            TieAttributeClass.CertEnterprise => CertEnterprise,
            TieAttributeClass.CertGti => CertGti,
            TieAttributeClass.Atd => Atd,
            _ => null,
        };
        if (table is not null && table.TryGetValue(id, out var hit)) return hit;
        foreach (var t in All)
            if (t.TryGetValue(id, out hit)) return hit;
        return (id, TieAttributeKind.Text);
    }

    /// <summary>True when the id has a name in some class.</summary>
    public static bool IsKnown(string id)
    {
        foreach (var t in All)
            if (t.ContainsKey(id)) return true;
        return false;
    }
}

/// <summary>The decoded CHILD_FILE_REPS / PARENT_FILE_REPS aggregate.</summary>
public sealed record TieAggregate(int FileCount, int MaxTrustLevel, int MinTrustLevel, int LastTrustLevel, double AverageTrustLevel);

/// <summary>Decoding helpers for attribute values.</summary>
public static class TieAttributeDecoding
{
    /// <summary>Seconds since 1970 UTC → time; accepts a numeric string.</summary>
    public static DateTimeOffset FromEpoch(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds);

    public static bool TryFromEpoch(string? value, out DateTimeOffset time)
    {
        time = default;
        if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) return false;
        if (s < -62135596800 || s > 253402300799) return false;
        time = DateTimeOffset.FromUnixTimeSeconds(s);
        return true;
    }

    /// <summary>(major, minor, patch, build) of an encoded server version.</summary>
    public static (int Major, int Minor, int Patch, long Build) ToVersionTuple(long v) =>
        ((int)((v >> 56) & 0xFF), (int)((v >> 48) & 0xFF), (int)((v >> 32) & 0xFFFF), v & 0xFFFFFFFF);

    /// <summary><c>73183493944770750</c> → <c>1.4.0.190</c>.</summary>
    public static string ToVersionString(long v)
    {
        var t = ToVersionTuple(v);
        return string.Create(CultureInfo.InvariantCulture, $"{t.Major}.{t.Minor}.{t.Patch}.{t.Build}");
    }

    public static bool TryToVersionString(string? value, out string version)
    {
        version = "";
        if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) return false;
        version = ToVersionString(v);
        return true;
    }

    /// <summary>
    /// Decodes an aggregate string: base64 of little-endian uint16 values (count, max, min, last, average×100).
    /// <c>"AgBkADIAZABMHQ=="</c> → (2, 100, 50, 100, 75.0).
    /// </summary>
    public static TieAggregate ToAggregate(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        int U16(int i) => 2 * i + 1 < bytes.Length ? bytes[2 * i] | (bytes[2 * i + 1] << 8) : 0;
        var avg = U16(4);
        return new TieAggregate(U16(0), U16(1), U16(2), U16(3), avg > 0 ? avg / 100.0 : 0);
    }

    public static bool TryToAggregate(string? value, out TieAggregate? aggregate)
    {
        aggregate = null;
        if (string.IsNullOrEmpty(value)) return false;
        try
        {
            aggregate = ToAggregate(value);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>One reputation attribute: its id, readable name, raw string value and a decoded value.</summary>
public sealed class TieAttribute
{
    private object? _decoded;
    private bool _decodedDone;

    public TieAttribute(string id, string value, TieAttributeClass cls)
    {
        Id = id;
        Value = value;
        (Name, Kind) = TieAttributeNames.Lookup(cls, id);
    }

    /// <summary>The numeric key as sent (e.g. <c>2102165</c>).</summary>
    public string Id { get; }

    /// <summary>Readable name (e.g. <c>FirstContact</c>), or the id when unknown.</summary>
    public string Name { get; }

    public TieAttributeKind Kind { get; }

    /// <summary>The raw value (TIE sends strings, even for numbers).</summary>
    public string Value { get; }

    public bool IsKnown => Name != Id;

    /// <summary>
    /// The value decoded by kind: long (Integer), bool (Flag), DateTimeOffset (EpochSeconds), string "a.b.c.d"
    /// (Version), <see cref="TieAggregate"/> (Aggregate), <see cref="AtdTrustLevel"/>, else the raw string.
    /// Falls back to the raw string when the value does not parse.
    /// </summary>
    public object Decoded
    {
        get
        {
            if (!_decodedDone)
            {
                _decoded = Decode();
                _decodedDone = true;
            }
            return _decoded!;
        }
    }

    public long? AsInt64() => long.TryParse(Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    public DateTimeOffset? AsDate() => TieAttributeDecoding.TryFromEpoch(Value, out var t) ? t : null;

    private object Decode()
    {
        switch (Kind)
        {
            case TieAttributeKind.Integer:
                return AsInt64() is { } i ? i : Value;
            case TieAttributeKind.Flag:
                return AsInt64() is { } f ? f != 0 : Value;
            case TieAttributeKind.EpochSeconds:
                return AsDate() is { } d ? d : Value;
            case TieAttributeKind.Version:
                return TieAttributeDecoding.TryToVersionString(Value, out var v) ? v : Value;
            case TieAttributeKind.Aggregate:
                return TieAttributeDecoding.TryToAggregate(Value, out var a) ? a! : Value;
            case TieAttributeKind.AtdTrustLevel:
                return AsInt64() is { } l && l >= int.MinValue && l <= int.MaxValue ? (AtdTrustLevel)(int)l : Value;
            default:
                return Value;
        }
    }

    public override string ToString() => $"{Name}={Decoded}";
}
