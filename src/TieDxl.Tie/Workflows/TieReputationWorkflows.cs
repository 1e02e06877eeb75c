using System.Security.Cryptography;
using TieDxl.Dxl;
using TieDxl.Dxl.Messages;
using System.Security.Cryptography.X509Certificates;

namespace TieDxl.Tie;

/// <summary>What an External report could do better; each flag is worth telling the user once.</summary>
[Flags]
public enum TieExternalReportAdvice
{
    None = 0,
    /// <summary>No file name: TIE servers were seen to ignore External reports without one, so the hash is sent as the name.</summary>
    NoFileName = 1,
    /// <summary>Fewer than three hash types: TIE keeps an incomplete record that later reports with other hash types cannot complete.</summary>
    FewHashTypes = 2,
    /// <summary>File type NONE: TIE records type 0.</summary>
    NoFileType = 4,
}

/// <summary>One External (provider 15) report: the OpenDXL "set external reputation" workflow.</summary>
public sealed record TieExternalReportRequest(TieHashes Hashes, TrustLevel TrustLevel)
{
    public FileType FileType { get; init; } = FileType.None;
    public string? FileName { get; init; }
    public string? Comment { get; init; }

    /// <summary>Send even when a provider other than External already has a definitive verdict.</summary>
    public bool Force { get; init; }

    /// <summary>A lookup the caller already has (piped Get-TieFileReputation output): used instead of asking again.</summary>
    public FileReputationResult? KnownReputation { get; init; }

    /// <summary>After sending, look the file up until provider 15 shows the trust level, for at most this long; null: no check.</summary>
    public TimeSpan? VerifyWithin { get; init; }

    /// <summary>How long each call (lookup, send) may take; null: the client's <see cref="TieClient.DefaultTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>One Enterprise reputation of a file (provider 3) or a certificate (provider 4); they override every other provider.</summary>
public sealed record TieEnterpriseReputationRequest(TrustLevel TrustLevel)
{
    /// <summary>The file (for a file reputation).</summary>
    public TieHashes? Hashes { get; init; }

    /// <summary>The certificate (for a certificate reputation).</summary>
    public TieCertificateId? Certificate { get; init; }

    public string? FileName { get; init; }
    public string? Comment { get; init; }

    /// <summary>How long the call may take; null: the client's <see cref="TieClient.DefaultTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// A signing certificate as TIE knows it: the SHA-1 of the DER certificate and, optionally, of its public key
/// (lower-case hex), plus a subject to show.
/// </summary>
public sealed record TieCertificateId(string Sha1, string? PublicKeySha1, string? Subject = null)
{
    /// <summary>The hashes TIE looks a certificate up by, computed from the certificate itself.</summary>
    public static TieCertificateId FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new(certificate.Thumbprint.ToLowerInvariant(),
            Convert.ToHexString(SHA1.HashData(certificate.GetPublicKey())).ToLowerInvariant(), certificate.Subject);
    }

    /// <summary>From hex text; <see cref="TieHashFormatException"/> when either is not a SHA-1.</summary>
    public static TieCertificateId Parse(string sha1, string? publicKeySha1 = null) =>
        new(TieHashes.NormalizeHex(HashType.Sha1, sha1.Trim()),
            string.IsNullOrWhiteSpace(publicKeySha1) ? null : TieHashes.NormalizeHex(HashType.Sha1, publicKeySha1.Trim()));

    public TieHashes Hashes => TieHashes.FromHex(HashType.Sha1, Sha1);

    public override string ToString() => $"SHA1:{Sha1}{(Subject is null ? "" : $" ({Subject})")}";
}

public sealed partial class TieClient
{
    /// <summary>How long verification waits between lookups at first; it doubles up to <see cref="MaxVerifyInterval"/>.</summary>
    public static readonly TimeSpan FirstVerifyInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxVerifyInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The OpenDXL "set external reputation" workflow for one file: look it up (unless forced or already known); when
    /// a provider other than External has a definitive verdict, skip; otherwise publish the External report (a file
    /// name is required by TIE servers, so the strongest hash stands in when none is given); optionally verify.
    /// Failed calls are outcomes; arguments that are not valid and cancellation throw.
    /// </summary>
    public async Task<TieSetOutcome> ReportExternalReputationAsync(TieExternalReportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireHashes(request.Hashes);
        FileReputationResult? before = null;
        if (!request.Force)
        {
            try
            {
                before = request.KnownReputation ?? await GetFileReputationAsync(request.Hashes, request.Timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TieNotFoundException)
            {
                // TIE knows nothing of the file: nobody decided, which is exactly when External applies.
            }
            catch (TieException e)
            {
                return TieSetOutcome.Failed(e);
            }
            if (before is not null && before.HasDefinitiveNonExternalReputation)
                return new TieSetOutcome(TieSetReputationStatus.Skipped, DescribeDecision(before) + ": External is only a fallback, so nothing was sent.") { Before = before };
        }

        var sentName = string.IsNullOrWhiteSpace(request.FileName) ? request.Hashes.Strongest?.Value : request.FileName;
        try
        {
            await SetExternalFileReputationAsync(request.Hashes, request.TrustLevel, request.FileType, sentName, request.Comment, request.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TieException e)
        {
            // Never counted as sent when it was not.
            return TieSetOutcome.Failed(e, "not sent: " + e.Message) with { Before = before };
        }

        if (request.VerifyWithin is not { } within)
            return TieSetOutcome.Sent() with { Before = before, SentFileName = sentName };
        var check = await VerifyExternalFileReputationAsync(request.Hashes, request.TrustLevel, within, FirstVerifyInterval, request.Timeout, cancellationToken).ConfigureAwait(false);
        if (check.Applied)
            return TieSetOutcome.Sent(verified: true) with { Before = before, SentFileName = sentName };
        var notVerified = new TieVerificationException(TieTopics.ExternalFileReport, request.TrustLevel, within);
        return TieSetOutcome.Failed(notVerified) with { Before = before, Verified = false, SentFileName = sentName };
    }

    /// <summary>Sets the Enterprise reputation of a file (provider 3) or a certificate (provider 4).</summary>
    public async Task<TieSetOutcome> SetEnterpriseReputationAsync(TieEnterpriseReputationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            if (request.Certificate is { } certificate)
                await SetCertificateReputationAsync(certificate.Sha1, request.TrustLevel, certificate.PublicKeySha1, request.Comment, request.Timeout, cancellationToken).ConfigureAwait(false);
            else
                await SetFileReputationAsync(request.Hashes ?? TieHashes.Empty, request.TrustLevel, request.FileName, request.Comment, request.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TieException e)
        {
            return TieSetOutcome.Failed(e);
        }
        return TieSetOutcome.Sent() with { SentFileName = request.FileName };
    }

    /// <summary>
    /// Looks the file up until provider 15 shows <paramref name="trustLevel"/> or <paramref name="within"/> (default
    /// 10 s) has passed. Every lookup is bounded by the time left; a failed lookup is no verdict, only the deadline
    /// is. The wait between lookups starts at <paramref name="firstInterval"/> and doubles up to 2 s, never past the deadline.
    /// One lookup takes at most <paramref name="lookupTimeout"/> (default <see cref="DefaultTimeout"/>).
    /// </summary>
    public async Task<TieExternalVerification> VerifyExternalFileReputationAsync(TieHashes hashes, TrustLevel trustLevel,
        TimeSpan? within = null, TimeSpan? firstInterval = null, TimeSpan? lookupTimeout = null, CancellationToken cancellationToken = default)
    {
        RequireHashes(hashes);
        var perLookup = ValidTimeout(lookupTimeout);
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        var interval = firstInterval ?? FirstVerifyInterval;
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(firstInterval), interval, "The interval must be positive.");
        var lookups = 0;
        FileReputationResult? last = null;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return new TieExternalVerification(false, last, lookups);
            try
            {
                lookups++;
                last = await GetFileReputationAsync(hashes, left < perLookup ? left : perLookup, cancellationToken).ConfigureAwait(false);
                if (last.External is { } ext && ext.TrustLevelValue == (int)trustLevel)
                    return new TieExternalVerification(true, last, lookups);
            }
            catch (TieException)
            {
                // Not found yet, or the lookup failed: either way not a verdict.
            }
            left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return new TieExternalVerification(false, last, lookups);
            await Task.Delay(interval < left ? interval : left, cancellationToken).ConfigureAwait(false);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, MaxVerifyInterval.Ticks));
        }
    }

    /// <summary>What an External report of these hashes, name and type could do better.</summary>
    public static TieExternalReportAdvice CheckExternalReport(TieHashes hashes, string? fileName, FileType fileType)
    {
        var advice = TieExternalReportAdvice.None;
        if (string.IsNullOrWhiteSpace(fileName)) advice |= TieExternalReportAdvice.NoFileName;
        if (hashes.Count < 3) advice |= TieExternalReportAdvice.FewHashTypes;
        if (fileType == FileType.None) advice |= TieExternalReportAdvice.NoFileType;
        return advice;
    }

    /// <summary>
    /// One lookup of a well-known file (notepad.exe): any answer from TIE, even "not found", proves the round trip.
    /// Returns what TIE said; a timeout or another failure throws (a <see cref="TieException"/>).
    /// </summary>
    public async Task<string> ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await LookUpWellKnownFileAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (MapError(TieTopics.FileReputation, timeout, ex) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>
    /// <see cref="ProbeAsync"/> for a connection diagnosis: TIE's answers are read the same way, but a timeout or a
    /// lost connection stays the DXL client's exception (<see cref="DxlTimeoutException"/>, ...), which a diagnosis
    /// of the connection explains in its own terms.
    /// </summary>
    public Task<string> DiagnoseAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        LookUpWellKnownFileAsync(timeout, cancellationToken);

    private async Task<string> LookUpWellKnownFileAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var notepad = TieHashes.Create("f2c7bb8acc97f92e987a2d4087d021b1", "7eb0139d2175739b3ccb0d1110067820be6abd29",
            "142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2");
        var request = new DxlRequest(TieTopics.FileReputation, TiePayloads.FileReputationRequest(notepad)) { IsIdempotent = true };
        DxlResponse response;
        try
        {
            response = await Client.RequestAsync(request, ValidTimeout(timeout), cancellationToken).ConfigureAwait(false);
        }
        catch (DxlErrorResponseException ex) when (MapError(TieTopics.FileReputation, timeout, ex) is { } answer)
        {
            if (answer is TieNotFoundException) return "TIE answered a file lookup (file unknown to it)";
            throw answer;
        }
        var result = Parse(TieTopics.FileReputation, response, notepad, static (p, asked) => TiePayloads.ParseFileReputation(p, asked));
        return $"TIE answered a file lookup ({result.Reputations.Count} provider reputation(s))";
    }

    private static string DescribeDecision(FileReputationResult lookup) => string.Join(", ", lookup.Reputations
        .Where(r => r.ProviderId != (int)FileProvider.External && r.TrustLevel is not (TrustLevel.NotSet or TrustLevel.Unknown))
        .Select(r => $"{r.ProviderName} says {r.TrustLevelName}"));
}
