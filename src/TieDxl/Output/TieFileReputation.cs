using TieDxl.Tie;

namespace TieDxl;

/// <summary>
/// Get-TieFileReputation's output: one object per file with its hashes, every provider's verdict, and the
/// conveniences a script needs (worst and best verdict, whether a provider other than External decided).
/// Flat properties first so that Export-Csv and ConvertTo-Json read well.
/// </summary>
/// <remarks>
/// The properties are read from the TIE API's result when asked (each a few comparisons over a handful of
/// providers), and the per-provider objects are made on first read: a pipeline of thousands of lookups then
/// allocates one small object per answer here, whatever it reads afterwards.
/// </remarks>
public sealed class TieFileReputation
{
    private IReadOnlyList<TieProviderReputation>? _reputations;

    internal TieFileReputation(FileReputationResult result, string? name, string? path)
    {
        Name = name ?? (path is null ? null : System.IO.Path.GetFileName(path));
        Path = path;
        Result = result;
    }

    public string? Name { get; }
    public string? Path { get; }
    public string? Md5 => Result.Hashes.Md5;
    public string? Sha1 => Result.Hashes.Sha1;
    public string? Sha256 => Result.Hashes.Sha256;

    /// <summary>The lowest trust level any provider gave (NotSet when none decided).</summary>
    public TrustLevel MostSevere => Result.MostSevere?.TrustLevel ?? TrustLevel.NotSet;
    public string? MostSevereProvider => Result.MostSevere?.ProviderName;
    /// <summary>The highest trust level any provider gave (NotSet when none decided).</summary>
    public TrustLevel MostTrusted => Result.MostTrusted?.TrustLevel ?? TrustLevel.NotSet;
    public string? MostTrustedProvider => Result.MostTrusted?.ProviderName;

    /// <summary>
    /// True when a provider other than External gave a verdict other than NotSet and Unknown: the check the
    /// OpenDXL "set external reputation" workflow makes before reporting.
    /// </summary>
    public bool HasDefinitiveReputation => Result.HasDefinitiveNonExternalReputation;

    public TrustLevel? Gti => Result.Gti?.TrustLevel;
    public TrustLevel? Enterprise => Result.Enterprise?.TrustLevel;
    public TrustLevel? Atd => Result.Atd?.TrustLevel;
    public TrustLevel? Mwg => Result.Mwg?.TrustLevel;
    public TrustLevel? External => Result.External?.TrustLevel;

    public IReadOnlyList<TieProviderReputation> Reputations
    {
        get
        {
            if (Volatile.Read(ref _reputations) is { } made) return made;
            var wrapped = TieProviderReputation.Wrap(Result.Reputations);
            // Two threads reading at once wrap the same answers; the first list published is kept.
            return Interlocked.CompareExchange(ref _reputations, wrapped, null) ?? wrapped;
        }
    }
    public DateTime? ServerTime => Result.ServerTime?.UtcDateTime;
    /// <summary>TIE asks for the sample to be submitted to ATD.</summary>
    public bool AtdCandidate => Result.Props.AtdCandidate;

    /// <summary>True when the answer came from the session's cache, not from a request to TIE.</summary>
    public bool FromCache => Result.FromCache;
    /// <summary>Tie (asked for this input), Shared (the request of an earlier input of the run naming the same file) or Cache.</summary>
    public TieAnswerSource Source => Result.Source;
    /// <summary>When TIE gave the answer (UTC).</summary>
    public DateTime RetrievedAt => Result.RetrievedAt.UtcDateTime;
    /// <summary>How old the answer is now.</summary>
    public TimeSpan Age => Result.AgeAt(DateTimeOffset.UtcNow);

    /// <summary>The hashes as <c>SHA256:...</c> (the strongest one), for messages and ShouldProcess targets.</summary>
    public override string ToString() => TieTargets.Describe(Result.Hashes, Name);

    /// <summary>The TIE API result behind this object (hidden from formatting by being last and complex).</summary>
    internal FileReputationResult Result { get; }
}
