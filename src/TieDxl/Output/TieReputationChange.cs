using TieDxl.Tie;

namespace TieDxl;

/// <summary>
/// One file or certificate whose reputation changed (Get-TieReputationChange). TIE lists one hash per subject and
/// no time per subject: <see cref="LatestUpdateTime"/> is the newest change of the page it came in.
/// <para>Files carry their hash in <see cref="Md5"/>, <see cref="Sha1"/> or <see cref="Sha256"/>, so they pipe into
/// Get-TieFileReputation; certificates carry theirs in <see cref="Thumbprint"/> (and <see cref="ToString"/>), which
/// Get-TieCertificateReputation binds and which the file cmdlets refuse. There is no <c>Hash</c> property on purpose: the
/// file cmdlets would take it for a file hash, certificates included.</para>
/// </summary>
public sealed class TieReputationChange
{
    internal TieReputationChange(TieChangedSubject subject, TieReputationChangePage page)
    {
        Subject = subject.Kind;
        HashType = subject.HashType;
        HashValue = subject.Hash;
        if (subject.Kind == TieSubjectKind.Certificate)
        {
            Thumbprint = subject.Hash;
        }
        else
        {
            Md5 = subject.HashType == HashType.Md5 ? subject.Hash : null;
            Sha1 = subject.HashType == HashType.Sha1 ? subject.Hash : null;
            Sha256 = subject.HashType == HashType.Sha256 ? subject.Hash : null;
        }
        LatestUpdateTime = page.LatestUpdateTime is { } latest ? DateTimeOffset.FromUnixTimeSeconds(latest).UtcDateTime : null;
        Page = page.Number;
    }

    /// <summary>File or Certificate.</summary>
    public TieSubjectKind Subject { get; }

    /// <summary>The algorithm of <see cref="HashValue"/> (chosen with -FileHashType, else by TIE).</summary>
    public HashType HashType { get; }

    /// <summary>The hash TIE listed, lower-case hex.</summary>
    public string HashValue { get; }

    public string? Md5 { get; }
    public string? Sha1 { get; }
    public string? Sha256 { get; }

    /// <summary>Certificates: the SHA-1 of the certificate, hex.</summary>
    public string? Thumbprint { get; }

    /// <summary>The newest change in this item's page (UTC): the item changed at or before it, after -Since.</summary>
    public DateTime? LatestUpdateTime { get; }

    /// <summary>The page (1, 2, …) of this run that listed the item.</summary>
    public int Page { get; }

    /// <summary>
    /// The hash alone: Get-TieCertificateReputation takes piped objects as text for its -Sha1 before it looks at their
    /// properties, so this is what makes a certificate change bind there.
    /// </summary>
    public override string ToString() => HashValue;
}
