namespace TieDxl.Tie;

/// <summary>TIE trust levels (files and certificates). Values outside the list are kept as their integer.</summary>
public enum TrustLevel
{
    NotSet = 0,
    KnownMalicious = 1,
    MostLikelyMalicious = 15,
    MightBeMalicious = 30,
    Unknown = 50,
    MightBeTrusted = 70,
    MostLikelyTrusted = 85,
    KnownTrusted = 99,
    KnownTrustedInstaller = 100,
}

/// <summary>Trust levels found inside ATD attributes (GAM, AV engine, sandbox, verdict).</summary>
public enum AtdTrustLevel
{
    NotSet = -2,
    KnownTrusted = -1,
    MostLikelyTrusted = 0,
    MightBeTrusted = 1,
    Unknown = 2,
    MightBeMalicious = 3,
    MostLikelyMalicious = 4,
    KnownMalicious = 5,
}

/// <summary>Reputation providers of files.</summary>
public enum FileProvider
{
    Gti = 1,
    Enterprise = 3,
    Atd = 5,
    Mwg = 7,
    External = 15,
}

/// <summary>Reputation providers of certificates.</summary>
public enum CertProvider
{
    Gti = 2,
    Enterprise = 4,
}

/// <summary>The three hash algorithms TIE knows. Wire names: md5, sha1, sha256.</summary>
public enum HashType
{
    Md5,
    Sha1,
    Sha256,
}

/// <summary>File types of the External reputation report (<c>file.type</c>); values exceed 32 bits.</summary>
public enum FileType : long
{
    None = 0,
    Com = 1,
    Exe = 2,
    Drv = 4,
    Boot = 8,
    Pe = 16,
    PeExe = 18,
    Vxd = 64,
    DllNonPe = 128,
    Dll = 144,
    Win = 272,
    MzStub = 512,
    Nlm = 1024,
    Elf = 2048,
    Js = 4096,
    Vbs = 8192,
    Script = 12288,
    Ole = 16384,
    Pic = 65536,
    Text = 131072,
    Bat = 143360,
    Html = 262144,
    HtmlText = 393216,
    Hta = 524288,
    Rtf = 1048576,
    Pdf = 2097152,
    MMedia = 4194304,
    Url = 8388608,
    Sys = 16777232,
    Zip = 33587200,
    Cab = 67141632,
    RarNoArc = 134217728,
    Rar = 134250496,
    Ooxml = 167772160,
    OoxmlPk = 301989888,
    MachO = 536870912,
    Apk = 1073741824,
    Class = 2147483648,
    Jar = 4328554496,
}

/// <summary>DXL topics of the TIE server.</summary>
public static class TieTopics
{
    public const string FileReputation = "/mcafee/service/tie/file/reputation";
    public const string FileReputationSet = "/mcafee/service/tie/file/reputation/set";
    public const string CertReputation = "/mcafee/service/tie/cert/reputation";
    public const string CertReputationSet = "/mcafee/service/tie/cert/reputation/set";
    public const string FileAgents = "/mcafee/service/tie/file/agents";
    public const string CertAgents = "/mcafee/service/tie/cert/agents";

    /// <summary>The change feed: subjects whose reputation changed since a server time (not wrapped by the OpenDXL clients).</summary>
    public const string ReputationUpdates = "/mcafee/service/tie/reputation/updates";

    /// <summary>External reputation report: an event, TIE Server 3.0+.</summary>
    public const string ExternalFileReport = "/mcafee/event/external/file/report";

    public const string FileRepChangeBroadcast = "/mcafee/event/tie/file/repchange/broadcast";
    public const string CertRepChangeBroadcast = "/mcafee/event/tie/cert/repchange/broadcast";
    /// <summary>Targeted variant (only files this client asked about), per the server schema.</summary>
    public const string FileRepChange = "/mcafee/event/tie/file/repchange";
    /// <summary>Targeted variant, per the server schema.</summary>
    public const string CertRepChange = "/mcafee/event/tie/cert/repchange";
    public const string FileDetection = "/mcafee/event/tie/file/detection";
    public const string FileFirstInstance = "/mcafee/event/tie/file/firstinstance";
    public const string FilePrevalence = "/mcafee/event/tie/file/prevalence";

    /// <summary>The service type the TIE server registers.</summary>
    public const string ServiceType = "/mcafee/service/tie";

    /// <summary>The six request topics.</summary>
    public static IReadOnlyList<string> RequestTopics { get; } = new[]
    {
        FileReputation, FileReputationSet, CertReputation, CertReputationSet, FileAgents, CertAgents,
    };
}

/// <summary>Names, membership tests and wire names of the constants.</summary>
public static class TieConstants
{
    /// <summary>The <c>scanType</c> sent with file lookups: on-demand, not an endpoint reference.</summary>
    public const int OnDemandScanType = 3;

    public const int DefaultQueryLimit = 500;
    public const int MinQueryLimit = 1;
    public const int MaxQueryLimit = 5000;

    public static bool IsDefined(TrustLevel value) => value switch
    {
        TrustLevel.NotSet or TrustLevel.KnownMalicious or TrustLevel.MostLikelyMalicious or TrustLevel.MightBeMalicious
            or TrustLevel.Unknown or TrustLevel.MightBeTrusted or TrustLevel.MostLikelyTrusted or TrustLevel.KnownTrusted
            or TrustLevel.KnownTrustedInstaller => true,
        _ => false,
    };

    public static bool IsDefined(FileType value) => Enum.IsDefined(value);

    public static bool IsDefined(AtdTrustLevel value) => value >= AtdTrustLevel.NotSet && value <= AtdTrustLevel.KnownMalicious;

    /// <summary>The enum name of a trust level, or its number when it is not one of the defined values.</summary>
    public static string TrustLevelName(int value) => IsDefined((TrustLevel)value) ? ((TrustLevel)value).ToString() : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>md5, sha1, sha256.</summary>
    public static string WireName(this HashType type) => type switch
    {
        HashType.Md5 => "md5",
        HashType.Sha1 => "sha1",
        HashType.Sha256 => "sha256",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown hash type."),
    };

    /// <summary>Hex length: md5 32, sha1 40, sha256 64.</summary>
    public static int HexLength(this HashType type) => type.ByteLength() * 2;

    /// <summary>Digest length in bytes: md5 16, sha1 20, sha256 32.</summary>
    public static int ByteLength(this HashType type) => type switch
    {
        HashType.Md5 => 16,
        HashType.Sha1 => 20,
        HashType.Sha256 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown hash type."),
    };

    /// <summary>
    /// Parses a hash type name: the wire names, any case, with or without a dash (<c>SHA256</c> and <c>SHA-256</c>
    /// as <c>Get-FileHash</c> and others write them).
    /// </summary>
    public static bool TryParseHashType(ReadOnlySpan<char> name, out HashType type)
    {
        name = name.Trim();
        if (name.Equals("md5", StringComparison.OrdinalIgnoreCase) || name.Equals("md-5", StringComparison.OrdinalIgnoreCase)) { type = HashType.Md5; return true; }
        if (name.Equals("sha1", StringComparison.OrdinalIgnoreCase) || name.Equals("sha-1", StringComparison.OrdinalIgnoreCase)) { type = HashType.Sha1; return true; }
        if (name.Equals("sha256", StringComparison.OrdinalIgnoreCase) || name.Equals("sha-256", StringComparison.OrdinalIgnoreCase)) { type = HashType.Sha256; return true; }
        type = default;
        return false;
    }

    /// <summary>The hash type with this many hex digits (32, 40, 64), or null.</summary>
    public static HashType? HashTypeFromHexLength(int length) => length switch
    {
        32 => HashType.Md5,
        40 => HashType.Sha1,
        64 => HashType.Sha256,
        _ => null,
    };

    /// <summary>Display name of a file provider id; unknown ids give their number.</summary>
    public static string FileProviderName(int providerId) => providerId switch
    {
        1 => "GTI",
        3 => "Enterprise",
        5 => "ATD",
        7 => "MWG",
        15 => "External",
        2 => "GTI (certificate)",
        4 => "Enterprise (certificate)",
        _ => providerId.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Display name of a certificate provider id; unknown ids give their number.</summary>
    public static string CertProviderName(int providerId) => providerId switch
    {
        2 => "GTI",
        4 => "Enterprise",
        _ => FileProviderName(providerId),
    };

    /// <summary>Long display name as the docs write it.</summary>
    public static string ProviderDisplayName(int providerId) => providerId switch
    {
        1 => "Global Threat Intelligence (GTI)",
        2 => "Global Threat Intelligence (GTI) certificates",
        3 => "Enterprise reputation",
        4 => "Enterprise reputation (certificates)",
        5 => "Advanced Threat Defense (ATD)",
        7 => "McAfee Web Gateway (MWG)",
        15 => "External reputation provider",
        _ => providerId.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
