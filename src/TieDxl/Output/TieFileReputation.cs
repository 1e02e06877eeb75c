using TieDxl.Tie;

namespace TieDxl;

/// <summary>
/// Get-TieFileReputation's output: one object per file with its hashes, every provider's verdict, and the
/// conveniences a script needs (worst and best verdict, whether a provider other than External decided).
/// Flat properties first so that Export-Csv and ConvertTo-Json read well.
/// </summary>
public sealed class TieFileReputation
{
    internal TieFileReputation(FileReputationResult result, string? name, string? path)
    {
        Name = name ?? (path is null ? null : System.IO.Path.GetFileName(path));
        Path = path;
        Md5 = result.Hashes.Md5;
        Sha1 = result.Hashes.Sha1;
        Sha256 = result.Hashes.Sha256;
        Reputations = result.Reputations.Select(r => new TieProviderReputation(r)).ToArray();
        var severe = result.MostSevere;
        var trusted = result.MostTrusted;
        MostSevere = severe?.TrustLevel ?? TrustLevel.NotSet;
        MostSevereProvider = severe?.ProviderName;
        MostTrusted = trusted?.TrustLevel ?? TrustLevel.NotSet;
        MostTrustedProvider = trusted?.ProviderName;
        HasDefinitiveReputation = result.HasDefinitiveNonExternalReputation;
        Gti = result.Gti?.TrustLevel;
        Enterprise = result.Enterprise?.TrustLevel;
        Atd = result.Atd?.TrustLevel;
        Mwg = result.Mwg?.TrustLevel;
        External = result.External?.TrustLevel;
        ServerTime = result.ServerTime?.UtcDateTime;
        AtdCandidate = result.Props.AtdCandidate;
        Result = result;
    }

    public string? Name { get; }
    public string? Path { get; }
    public string? Md5 { get; }
    public string? Sha1 { get; }
    public string? Sha256 { get; }

    /// <summary>The lowest trust level any provider gave (NotSet when none decided).</summary>
    public TrustLevel MostSevere { get; }
    public string? MostSevereProvider { get; }
    /// <summary>The highest trust level any provider gave (NotSet when none decided).</summary>
    public TrustLevel MostTrusted { get; }
    public string? MostTrustedProvider { get; }

    /// <summary>
    /// True when a provider other than External gave a verdict other than NotSet and Unknown: the check the
    /// OpenDXL "set external reputation" workflow makes before reporting.
    /// </summary>
    public bool HasDefinitiveReputation { get; }

    public TrustLevel? Gti { get; }
    public TrustLevel? Enterprise { get; }
    public TrustLevel? Atd { get; }
    public TrustLevel? Mwg { get; }
    public TrustLevel? External { get; }

    public IReadOnlyList<TieProviderReputation> Reputations { get; }
    public DateTime? ServerTime { get; }
    /// <summary>TIE asks for the sample to be submitted to ATD.</summary>
    public bool AtdCandidate { get; }

    /// <summary>The hashes as <c>SHA256:...</c> (the strongest one), for messages and ShouldProcess targets.</summary>
    public override string ToString() => TieTargets.Describe(Result.Hashes, Name);

    /// <summary>The TIE API result behind this object (hidden from formatting by being last and complex).</summary>
    internal FileReputationResult Result { get; }
}
