using System.Security.Cryptography;
using TieDxl.Dxl;
using TieDxl.Tie.Caching;
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

    /// <summary>Send even when External already holds the trust level or a provider other than External has a definitive verdict.</summary>
    public bool Force { get; init; }

    /// <summary>Where to journal the change; with a journal the file is looked up even when forced (the journal needs the trust level before).</summary>
    public TieJournalWriter? Journal { get; init; }

    /// <summary>A lookup the caller already has (piped Get-TieFileReputation output): used instead of asking again.</summary>
    public FileReputationResult? KnownReputation { get; init; }

    /// <summary>After sending, look the file up until provider 15 shows the trust level, for at most this long; null: no check.</summary>
    public TimeSpan? VerifyWithin { get; init; }

    /// <summary>How long each call (lookup, send) may take; null: the client's <see cref="TieClient.DefaultTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// How the lookup before the change may be answered (the session's cache, within its maximum age) and the rate
    /// the lookup and the change take; null: ask TIE, at the client's default rate.
    /// </summary>
    public TieLookupOptions? Lookup { get; init; }
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

    /// <summary>Send even when Enterprise already holds the trust level (no lookup then, unless journalled).</summary>
    public bool Force { get; init; }

    /// <summary>Where to journal the change.</summary>
    public TieJournalWriter? Journal { get; init; }

    /// <summary>How long each call may take; null: the client's <see cref="TieClient.DefaultTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// How the lookup before the change may be answered (the session's cache, within its maximum age) and the rate
    /// the lookup and the change take; null: ask TIE, at the client's default rate.
    /// </summary>
    public TieLookupOptions? Lookup { get; init; }
}

/// <summary>The undo of one journalled change (<see cref="TieClient.RestoreReputationAsync"/>).</summary>
public sealed record TieRestoreRequest(TieJournalEntry Entry)
{
    /// <summary>Restore even when the reputation was changed since the journalled change.</summary>
    public bool Force { get; init; }

    /// <summary>Where to journal the undo, so that it can be undone in turn.</summary>
    public TieJournalWriter? Journal { get; init; }

    /// <summary>How long each call may take; null: the client's <see cref="TieClient.DefaultTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// How the lookup before the change may be answered (the session's cache, within its maximum age) and the rate
    /// the lookup and the change take; null: ask TIE, at the client's default rate.
    /// </summary>
    public TieLookupOptions? Lookup { get; init; }
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
    /// The OpenDXL "set external reputation" workflow for one file: look it up (unless forced without a journal, or
    /// already known); when External already holds the trust level, it is Unchanged; when a provider other than
    /// External has a definitive verdict, skip; otherwise publish the External report (a file name is required by TIE
    /// servers, so the strongest hash stands in when none is given); optionally verify. Unchanged comes before Skipped:
    /// when External already says it, there is nothing to change, whatever the other providers say.
    /// Failed calls are outcomes; arguments that are not valid and cancellation throw.
    /// </summary>
    public Task<TieSetOutcome> ReportExternalReputationAsync(TieExternalReportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireHashes(request.Hashes);
        var sentName = string.IsNullOrWhiteSpace(request.FileName) ? request.Hashes.Strongest?.Value : request.FileName;
        var change = NewChange(TieJournalOperation.Set, (int)FileProvider.External, request.TrustLevel, request.Journal) with
        {
            Hashes = request.Hashes, Name = sentName, Comment = request.Comment, FileType = request.FileType, Lookup = request.Lookup,
        };
        var rules = new ChangeRules(request.Force, request.KnownReputation, (before, level) =>
            before is FileReputationResult { HasDefinitiveNonExternalReputation: true } file
                ? new TieSetOutcome(TieSetReputationStatus.Skipped, DescribeDecision(file) + ": External is only a fallback, so nothing was sent.")
                : null);
        return ChangeAsync(change, rules, ct => SendExternalAsync(change, request, ct), request.Timeout, cancellationToken);
    }

    /// <summary>Sends the External report, then verifies it when asked; a send that failed is "not sent".</summary>
    private async Task<TieSetOutcome> SendExternalAsync(Change change, TieExternalReportRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await SendChangeAsync(change, request.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TieException e)
        {
            // Never counted as sent when it was not.
            return TieSetOutcome.Failed(e, "not sent: " + e.Message) with { SentFileName = change.Name };
        }
        if (request.VerifyWithin is not { } within)
            return TieSetOutcome.Sent() with { SentFileName = change.Name };
        var check = await VerifyExternalFileReputationAsync(request.Hashes, request.TrustLevel, within, FirstVerifyInterval, request.Timeout, cancellationToken).ConfigureAwait(false);
        if (check.Applied)
            return TieSetOutcome.Sent(verified: true) with { SentFileName = change.Name };
        var notVerified = new TieVerificationException(TieTopics.ExternalFileReport, request.TrustLevel, within);
        return TieSetOutcome.Failed(notVerified) with { Verified = false, SentFileName = change.Name };
    }

    /// <summary>
    /// Sets the Enterprise reputation of a file (provider 3) or a certificate (provider 4): looked up first (unless
    /// forced without a journal), Unchanged when it already holds the trust level.
    /// </summary>
    public Task<TieSetOutcome> SetEnterpriseReputationAsync(TieEnterpriseReputationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var change = request.Certificate is { } certificate
            ? NewChange(TieJournalOperation.Set, (int)CertProvider.Enterprise, request.TrustLevel, request.Journal) with
            {
                Certificate = certificate, Name = certificate.Subject, Comment = request.Comment, Lookup = request.Lookup,
            }
            : NewChange(TieJournalOperation.Set, (int)FileProvider.Enterprise, request.TrustLevel, request.Journal) with
            {
                Hashes = request.Hashes ?? TieHashes.Empty, Name = request.FileName, Comment = request.Comment, Lookup = request.Lookup,
            };
        if (change.Hashes is not null) RequireHashes(change.Hashes);
        return ChangeAsync(change, new ChangeRules(request.Force), ct => SendPlainAsync(change, request.Timeout, ct), request.Timeout, cancellationToken);
    }

    /// <summary>
    /// Undoes one journalled change: restores the trust level the provider had before it (NotSet where it had none).
    /// Skipped when the provider no longer holds the level the journal set (someone changed it since), Unchanged when
    /// it already holds the level to restore; forcing restores in both cases. The undo is journalled like a set.
    /// </summary>
    public Task<TieSetOutcome> RestoreReputationAsync(TieRestoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var entry = request.Entry;
        if (entry.TrustLevelBefore is not { } restore)
            return Task.FromResult(TieSetOutcome.Failed(new ArgumentException(
                "the journal does not say which trust level was there before, so there is nothing to restore.", nameof(request))));
        var change = NewChange(TieJournalOperation.Undo, entry.ProviderId, restore, request.Journal) with
        {
            Hashes = entry.Subject == TieJournalSubject.File ? entry.Hashes : null,
            Certificate = entry.Subject == TieJournalSubject.Certificate ? new TieCertificateId(entry.Sha1 ?? "", entry.PublicKeySha1, entry.Name) : null,
            Name = entry.Name, Comment = entry.Comment, FileType = entry.FileType, Lookup = request.Lookup,
        };
        var rules = new ChangeRules(request.Force, Decide: (_, level) => level == entry.TrustLevelRequested ? null
            : new TieSetOutcome(TieSetReputationStatus.Skipped,
                $"{entry.Provider} is now {level}, not {entry.TrustLevelRequested} as the journal set it at {entry.Time.UtcDateTime:u}: " +
                "it was changed since, so it was left as it is."));
        return ChangeAsync(change, rules, ct => SendPlainAsync(change, request.Timeout, ct), request.Timeout, cancellationToken);
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
                // Not through the workflows' lookup helper: verification must see what TIE holds now, never an earlier answer.
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

    // ---------------------------------------------------------------- the one flow of every change

    /// <summary>One change as sent and journalled: which reputation (provider of a file or certificate), to what.</summary>
    private sealed record Change(TieJournalOperation Operation, int ProviderId, TrustLevel Requested, TieJournalWriter? Journal,
        (string? Subject, string ClientId) Identity)
    {
        public Guid OperationId { get; } = Guid.NewGuid();
        public TieHashes? Hashes { get; init; }
        public TieCertificateId? Certificate { get; init; }
        public string? Name { get; init; }
        public string? Comment { get; init; }
        public FileType? FileType { get; init; }
        public TieLookupOptions? Lookup { get; init; }

        public TieJournalEntry Entry(TieJournalStatus status, TrustLevel? before, TrustLevel? after, string? reason) => new()
        {
            Time = DateTimeOffset.UtcNow, OperationId = OperationId, Operation = Operation,
            ClientSubject = Identity.Subject, ClientId = Identity.ClientId,
            Subject = Certificate is null ? TieJournalSubject.File : TieJournalSubject.Certificate,
            Md5 = Hashes?.Md5, Sha1 = Certificate?.Sha1 ?? Hashes?.Sha1, Sha256 = Hashes?.Sha256, PublicKeySha1 = Certificate?.PublicKeySha1,
            Name = Name, FileType = FileType, ProviderId = ProviderId,
            TrustLevelBefore = before, TrustLevelRequested = Requested, TrustLevelAfter = after, Status = status, Comment = Comment, Reason = reason,
        };
    }

    /// <summary>
    /// What decides a change: forced (send whatever was there), what the caller already looked up, and the rule
    /// applied after "already holds it → Unchanged" (null: send).
    /// </summary>
    private sealed record ChangeRules(bool Force, TieReputationResult? Known = null, Func<TieReputationResult?, TrustLevel, TieSetOutcome?>? Decide = null);

    private (string? Subject, string ClientId)? _journalIdentity;

    private Change NewChange(TieJournalOperation operation, int providerId, TrustLevel requested, TieJournalWriter? journal) =>
        new(operation, providerId, requested, journal, journal is null ? (null, "") : _journalIdentity ??= (ClientSubject(), Client.ClientId));

    /// <summary>The subject of this client's certificate, for the journal; null when it cannot be read.</summary>
    private string? ClientSubject()
    {
        try
        {
            return Client.Config.GetClientCertificate().Subject;
        }
        catch (Exception e) when (e is DxlException or CryptographicException or IOException or UnauthorizedAccessException)
        {
            // The connection works with it, so this is unlikely; the journal then names the client id alone.
            return null;
        }
    }

    /// <summary>
    /// Look up (unless forced without a journal, or already known), decide (Unchanged, then the rule), journal the
    /// change as pending, send, journal the outcome. A failed lookup is a failed outcome and nothing is sent.
    /// </summary>
    private async Task<TieSetOutcome> ChangeAsync(Change change, ChangeRules rules, Func<CancellationToken, Task<TieSetOutcome>> send,
        TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var before = rules.Known;
        TrustLevel? levelBefore = null;
        if (before is not null || !rules.Force || change.Journal is not null)
        {
            if (before is null)
            {
                var lookup = await LookUpAsync(change, timeout, cancellationToken).ConfigureAwait(false);
                if (lookup.Error is { } failed) return Record(change, null, null, TieSetOutcome.Failed(failed));
                before = lookup.Result;
            }
            levelBefore = before?.GetReputation(change.ProviderId)?.TrustLevel ?? TrustLevel.NotSet;
            var decided = rules.Force ? null
                : levelBefore == change.Requested
                    ? new TieSetOutcome(TieSetReputationStatus.Unchanged, $"{ProviderName(change)} already says {change.Requested}: nothing was sent.")
                    : rules.Decide?.Invoke(before, levelBefore.Value);
            if (decided is not null) return Record(change, levelBefore, before, decided);
        }
        // A change reaches TIE like a lookup, so it takes its token too; the wait counts against no call's timeout.
        if ((change.Lookup?.Rate ?? DefaultRequestRate) is { } rate) await rate.WaitAsync(cancellationToken).ConfigureAwait(false);
        // Journalled before sending: a run killed after TIE got the change still has a line for it.
        change.Journal?.Append(change.Entry(TieJournalStatus.Pending, levelBefore, null, null));
        var outcome = await send(cancellationToken).ConfigureAwait(false);
        return Record(change, levelBefore, before, outcome);
    }

    /// <summary>Completes the outcome with the provider and the trust levels, and journals it.</summary>
    private static TieSetOutcome Record(Change change, TrustLevel? levelBefore, TieReputationResult? before, TieSetOutcome outcome)
    {
        var after = outcome.Status == TieSetReputationStatus.Sent ? change.Requested : levelBefore;
        outcome = outcome with
        {
            ProviderId = change.ProviderId, TrustLevelBefore = levelBefore, TrustLevelAfter = after,
            Before = outcome.Before ?? before as FileReputationResult,
        };
        change.Journal?.Append(change.Entry(JournalStatus(outcome.Status), levelBefore, after, outcome.Reason));
        return outcome;
    }

    private static TieJournalStatus JournalStatus(TieSetReputationStatus status) => status switch
    {
        TieSetReputationStatus.Sent => TieJournalStatus.Sent,
        TieSetReputationStatus.Skipped => TieJournalStatus.Skipped,
        TieSetReputationStatus.Unchanged => TieJournalStatus.Unchanged,
        _ => TieJournalStatus.Failed,
    };

    private static string ProviderName(Change change) => change.ProviderId == (int)FileProvider.External ? "External" : "Enterprise";

    /// <summary>Sends a change that needs no verification; a failed call is a failed outcome.</summary>
    private async Task<TieSetOutcome> SendPlainAsync(Change change, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            await SendChangeAsync(change, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TieException e)
        {
            return TieSetOutcome.Failed(e);
        }
        return TieSetOutcome.Sent() with { SentFileName = change.Certificate is null ? change.Name : null };
    }

    /// <summary>Sends one change to its provider: External report, Enterprise file or certificate reputation.</summary>
    private Task SendChangeAsync(Change change, TimeSpan? timeout, CancellationToken cancellationToken) => change switch
    {
        { Certificate: { } certificate } =>
            SetCertificateReputationAsync(certificate.Sha1, change.Requested, certificate.PublicKeySha1, change.Comment, timeout, cancellationToken),
        { ProviderId: (int)FileProvider.External } =>
            SetExternalFileReputationAsync(change.Hashes!, change.Requested, change.FileType ?? FileType.None, change.Name, change.Comment, timeout, cancellationToken),
        _ => SetFileReputationAsync(change.Hashes!, change.Requested, change.Name, change.Comment, timeout, cancellationToken),
    };

    private async Task<(TieReputationResult? Result, TieException? Error)> LookUpAsync(Change change, TimeSpan? timeout, CancellationToken cancellationToken) =>
        change.Certificate is { } certificate
            ? await LookUpCertificateAsync(certificate, change.Lookup, timeout, cancellationToken).ConfigureAwait(false)
            : await LookUpFileAsync(change.Hashes!, change.Lookup, timeout, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Every lookup the workflows make of a file before changing it. Null when TIE knows nothing of it (nobody
    /// decided: every provider is NotSet); a failed lookup is the error.
    /// </summary>
    private async Task<(TieReputationResult? Result, TieException? Error)> LookUpFileAsync(TieHashes hashes, TieLookupOptions? options, TimeSpan? timeout,
        CancellationToken cancellationToken)
    {
        try
        {
            var lookup = options is null
                ? GetFileReputationAsync(hashes, timeout, cancellationToken)
                : GetFileReputationAsync(hashes, options, timeout, cancellationToken);
            return (await lookup.ConfigureAwait(false), null);
        }
        catch (TieNotFoundException)
        {
            return (null, null);
        }
        catch (TieException e)
        {
            return (null, e);
        }
    }

    /// <summary>Every lookup the workflows make of a certificate before changing it; as <see cref="LookUpFileAsync"/>.</summary>
    private async Task<(TieReputationResult? Result, TieException? Error)> LookUpCertificateAsync(TieCertificateId certificate, TieLookupOptions? options,
        TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            var lookup = options is null
                ? GetCertificateReputationAsync(certificate.Sha1, certificate.PublicKeySha1, timeout, cancellationToken)
                : GetCertificateReputationAsync(certificate.Sha1, certificate.PublicKeySha1, options, timeout, cancellationToken);
            return (await lookup.ConfigureAwait(false), null);
        }
        catch (TieNotFoundException)
        {
            return (null, null);
        }
        catch (TieException e)
        {
            return (null, e);
        }
    }

    private static string DescribeDecision(FileReputationResult lookup) => string.Join(", ", lookup.Reputations
        .Where(r => r.ProviderId != (int)FileProvider.External && r.TrustLevel is not (TrustLevel.NotSet or TrustLevel.Unknown))
        .Select(r => $"{r.ProviderName} says {r.TrustLevelName}"));
}
