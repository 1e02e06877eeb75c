using System.Text.Json;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using TieDxl.Tie.Caching;

namespace TieDxl.Tie;

/// <summary>The outcome of <see cref="TieClient.VerifyExternalFileReputationAsync"/> (in Workflows).</summary>
/// <param name="Applied">Provider 15 showed the expected trust level.</param>
/// <param name="LastResult">The last successful lookup, or null when every lookup was "not found".</param>
/// <param name="Lookups">How many lookups were made.</param>
public sealed record TieExternalVerification(bool Applied, FileReputationResult? LastResult, int Lookups);

/// <summary>Arguments of <see cref="TieClient.EventError"/>: an event that could not be parsed or whose handler threw.</summary>
public sealed class TieEventErrorEventArgs(string topic, string payload, Exception error) : EventArgs
{
    public string Topic { get; } = topic;
    public string Payload { get; } = payload;
    public Exception Error { get; } = error;
}

/// <summary>
/// The TIE operations over a connected <see cref="DxlClient"/>. Thread-safe; calls may run concurrently in any number.
/// Failures raise a <see cref="TieException"/> subclass; bad arguments raise <see cref="ArgumentException"/>
/// (<see cref="TieHashFormatException"/> for hashes) before anything is sent; cancellation raises
/// <see cref="OperationCanceledException"/>.
/// <para>Event handlers run on the DXL client's event dispatcher, one event at a time: hand long work off to a
/// queue. Handler exceptions and unparseable events go to <see cref="EventError"/>.</para>
/// </summary>
public sealed partial class TieClient
{
    /// <summary>The default per-call timeout (30 s, as the Python client).</summary>
    public static readonly TimeSpan DefaultTimeoutValue = TimeSpan.FromSeconds(30);

    private TimeSpan _timeout = DefaultTimeoutValue;

    /// <summary>The probe is bounded: a client without lookup authorisation must not stall its reports a whole timeout each reconnect.</summary>
    private static readonly TimeSpan ServerBackProbeLimit = TimeSpan.FromSeconds(10);

    // A file this client reported lately: the probe that shows the TIE server is back looks it up.
    private TieHashes? _lastReported;

    /// <summary>
    /// A TIE client over <paramref name="client"/>. Make one per DXL client and keep it as long as the DXL client
    /// (a session does): it tells the DXL client how to know that the TIE server is back after a reconnect.
    /// </summary>
    public TieClient(DxlClient client)
    {
        Client = client ?? throw new ArgumentNullException(nameof(client));
        // The TIE server comes back a little later than the broker, and an External report published before it
        // re-subscribed reaches nobody. It consumes reports on the connection that serves lookups, so one answered
        // lookup shows it is back; the DXL client runs it once per reconnect, and only when a report waits for it.
        Client.SetReceiverCheck(TieTopics.ExternalFileReport, ProbeServerBackAsync);
        ConfigureCache(DefaultCacheMaxAge, DefaultCacheMaxEntries);
        WatchConnection();
    }

    private Task ProbeServerBackAsync(DxlEvent report, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _lastReported) is not { } hashes) return Task.CompletedTask;
        var wait = _timeout < ServerBackProbeLimit ? _timeout : ServerBackProbeLimit;
        return GetFileReputationAsync(hashes, wait, cancellationToken);
    }

    public DxlClient Client { get; }

    /// <summary>Per-call timeout used when a call passes none. Must be positive.</summary>
    public TimeSpan DefaultTimeout
    {
        get => _timeout;
        set
        {
            if (value <= TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(value), value, "The timeout must be positive.");
            _timeout = value;
        }
    }

    /// <summary>Raised when an event cannot be parsed or a subscription handler throws (the subscription stays).</summary>
    public event EventHandler<TieEventErrorEventArgs>? EventError;

    // ================================================================ files

    /// <summary>Looks up a file's reputations (sends <c>scanType 3</c>).</summary>
    /// <remarks>Bad arguments throw at the call, before a task exists. The hot path of bulk lookups: one state machine per call.</remarks>
    public Task<FileReputationResult> GetFileReputationAsync(TieHashes hashes, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        RequireHashes(hashes);
        var payload = TiePayloads.FileReputationRequest(hashes);
        return RequestAsync(TieTopics.FileReputation, payload, timeout, hashes, static (p, asked) => TiePayloads.ParseFileReputation(p, asked), cancellationToken);
    }

    /// <summary>Sets the Enterprise reputation (provider 3) of a file. Needs the "TIE Server Set Enterprise Reputation" authorisation.</summary>
    public async Task SetFileReputationAsync(TieHashes hashes, TrustLevel trustLevel, string? filename = null, string? comment = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        RequireHashes(hashes);
        RequireTrustLevel(trustLevel);
        var payload = TiePayloads.SetFileReputationRequest(hashes, (int)trustLevel, filename, comment);
        EvictOwnChange(hashes);
        try
        {
            await RequestAsync(TieTopics.FileReputationSet, payload, timeout, 0, static (_, _) => 0, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // A lookup answered while the change was on its way may have been kept: drop it again.
            EvictOwnChange(hashes);
        }
    }

    /// <summary>
    /// Reports an External reputation (provider 15): an event, no reply (TIE Server 3.0+, External provider enabled
    /// in policy, "TIE Server Set External Reputation" authorisation). NOT_SET (0) is accepted. Completes when the
    /// broker read the event; there is no confirmation from TIE — look the file up to verify. While the client
    /// reconnects it waits for the connection up to <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>).
    /// Reports the broker read shortly before an outage are sent again after it by the DXL client (<see cref="DxlEvent.IsIdempotent"/>).
    /// <see cref="ReportExternalReputationAsync"/> is the whole workflow (look up, decide, send, verify).
    /// </summary>
    public async Task SetExternalFileReputationAsync(TieHashes hashes, TrustLevel trustLevel, FileType fileType = FileType.None,
        string? filename = null, string? comment = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        RequireHashes(hashes);
        RequireTrustLevel(trustLevel);
        if (!TieConstants.IsDefined(fileType))
            throw new ArgumentOutOfRangeException(nameof(fileType), (long)fileType, $"FileType {(long)fileType} is not a valid entry.");
        var t = ValidTimeout(timeout);
        var payload = TiePayloads.ExternalFileReportEvent(hashes, (int)trustLevel, (long)fileType, filename, comment);
        // TIE applies a repeated report like a single one, so the DXL client may publish it again: across a reconnect,
        // and after an outage that came shortly after the broker confirmed it.
        var evt = new DxlEvent(TieTopics.ExternalFileReport, payload) { IsIdempotent = true };
        Volatile.Write(ref _lastReported, hashes);
        EvictOwnChange(hashes);
        try
        {
            await Client.SendEventAsync(evt, t, cancellationToken).ConfigureAwait(false);
        }
        catch (DxlConnectionException ex)
        {
            throw new TieConnectionException(TieTopics.ExternalFileReport, ex);
        }
        finally
        {
            EvictOwnChange(hashes);
        }
    }

    /// <summary>Where the file has run: first reference per system, capped at <paramref name="queryLimit"/> (1-5000).</summary>
    public async Task<TieFirstReferences> GetFileFirstReferencesAsync(TieHashes hashes, int queryLimit = TieConstants.DefaultQueryLimit,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        RequireHashes(hashes);
        RequireQueryLimit(queryLimit);
        var payload = TiePayloads.FileFirstReferencesRequest(hashes, queryLimit);
        var result = await RequestAsync(TieTopics.FileAgents, payload, timeout, 0, static (p, _) => TiePayloads.ParseFirstReferences(p), cancellationToken).ConfigureAwait(false);
        result.Hashes = hashes;
        return result;
    }

    // ================================================================ certificates

    /// <summary>Looks up a certificate by the SHA-1 of the certificate and, optionally, of its public key (hex).</summary>
    public Task<CertificateReputationResult> GetCertificateReputationAsync(string sha1, string? publicKeySha1 = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (cert, key) = CertHashes(sha1, publicKeySha1);
        return RequestCertificateReputationAsync(cert, key, timeout, cancellationToken);
    }

    private async Task<CertificateReputationResult> RequestCertificateReputationAsync(byte[] cert, byte[]? key, TimeSpan? timeout,
        CancellationToken cancellationToken)
    {
        var payload = TiePayloads.CertificateReputationRequest(cert, key);
        return await RequestAsync(TieTopics.CertReputation, payload, timeout, (cert, key),
            static (p, asked) => TiePayloads.ParseCertificateReputation(p, TieHashes.ToHex(asked.cert), asked.key is null ? null : TieHashes.ToHex(asked.key)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets the Enterprise reputation (provider 4) of a certificate.</summary>
    public async Task SetCertificateReputationAsync(string sha1, TrustLevel trustLevel, string? publicKeySha1 = null, string? comment = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (cert, key) = CertHashes(sha1, publicKeySha1);
        RequireTrustLevel(trustLevel);
        var payload = TiePayloads.SetCertificateReputationRequest(cert, key, (int)trustLevel, comment);
        EvictOwnChange(cert, key);
        try
        {
            await RequestAsync(TieTopics.CertReputationSet, payload, timeout, 0, static (_, _) => 0, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            EvictOwnChange(cert, key);
        }
    }

    /// <summary>Systems that ran files signed by the certificate, capped at <paramref name="queryLimit"/> (1-5000).</summary>
    public async Task<TieFirstReferences> GetCertificateFirstReferencesAsync(string sha1, string? publicKeySha1 = null,
        int queryLimit = TieConstants.DefaultQueryLimit, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (cert, key) = CertHashes(sha1, publicKeySha1);
        RequireQueryLimit(queryLimit);
        var payload = TiePayloads.CertificateFirstReferencesRequest(cert, key, queryLimit);
        var result = await RequestAsync(TieTopics.CertAgents, payload, timeout, 0, static (p, _) => TiePayloads.ParseFirstReferences(p), cancellationToken).ConfigureAwait(false);
        result.Hashes = TieHashes.FromBytes(HashType.Sha1, cert);
        return result;
    }

    // ================================================================ events

    /// <summary>File reputation changes (<c>/mcafee/event/tie/file/repchange/broadcast</c>, or the targeted topic). Dispose to stop.</summary>
    public Task<IAsyncDisposable> SubscribeFileReputationChangeAsync(Func<FileReputationChangeEvent, Task> handler,
        string topic = TieTopics.FileRepChangeBroadcast, CancellationToken cancellationToken = default) =>
        SubscribeAsync(topic, handler, (p, t) => TiePayloads.ParseFileReputationChange(p, t), cancellationToken);

    /// <summary>Certificate reputation changes (<c>/mcafee/event/tie/cert/repchange/broadcast</c>). Dispose to stop.</summary>
    public Task<IAsyncDisposable> SubscribeCertificateReputationChangeAsync(Func<CertificateReputationChangeEvent, Task> handler,
        string topic = TieTopics.CertRepChangeBroadcast, CancellationToken cancellationToken = default) =>
        SubscribeAsync(topic, handler, (p, t) => TiePayloads.ParseCertificateReputationChange(p, t), cancellationToken);

    /// <summary>Detections reported by endpoints (<c>/mcafee/event/tie/file/detection</c>). Dispose to stop.</summary>
    public Task<IAsyncDisposable> SubscribeFileDetectionAsync(Func<FileDetectionEvent, Task> handler, CancellationToken cancellationToken = default) =>
        SubscribeAsync(TieTopics.FileDetection, handler, (p, t) => TiePayloads.ParseFileDetection(p, t), cancellationToken);

    /// <summary>First sightings of files in the enterprise (<c>/mcafee/event/tie/file/firstinstance</c>). Dispose to stop.</summary>
    public Task<IAsyncDisposable> SubscribeFileFirstInstanceAsync(Func<FileFirstInstanceEvent, Task> handler, CancellationToken cancellationToken = default) =>
        SubscribeAsync(TieTopics.FileFirstInstance, handler, (p, t) => TiePayloads.ParseFileFirstInstance(p, t), cancellationToken);

    /// <summary>Prevalence changes (<c>/mcafee/event/tie/file/prevalence</c>; schema only, beyond the official clients). Dispose to stop.</summary>
    public Task<IAsyncDisposable> SubscribeFilePrevalenceAsync(Func<FilePrevalenceEvent, Task> handler, CancellationToken cancellationToken = default) =>
        SubscribeAsync(TieTopics.FilePrevalence, handler, (p, t) => TiePayloads.ParseFilePrevalence(p, t), cancellationToken);

    private async Task<IAsyncDisposable> SubscribeAsync<T>(string topic, Func<T, Task> handler, Func<ReadOnlyMemory<byte>, string, T> parse,
        CancellationToken cancellationToken) where T : TieEvent
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        try
        {
            return await Client.SubscribeAsync(topic, async evt =>
            {
                T parsed;
                try
                {
                    parsed = parse(evt.PayloadMemory, string.IsNullOrEmpty(evt.DestinationTopic) ? topic : evt.DestinationTopic);
                    parsed.RawJson = evt.PayloadText;
                }
                catch (Exception ex) when (ex is JsonException or FormatException)
                {
                    RaiseEventError(topic, evt, new TieMalformedResponseException(topic, ex.Message, Shorten(evt.PayloadText), ex));
                    return;
                }
                try
                {
                    await handler(parsed).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    RaiseEventError(topic, evt, ex);
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (DxlConnectionException ex)
        {
            throw new TieConnectionException(topic, ex);
        }
    }

    private void RaiseEventError(string topic, DxlEvent evt, Exception ex)
    {
        try
        {
            EventError?.Invoke(this, new TieEventErrorEventArgs(topic, evt.PayloadText, ex));
        }
        catch
        {
            // A throwing observer must not take the subscription down.
        }
    }

    // ================================================================ plumbing

    /// <summary>A request whose answer is parsed by <paramref name="parse"/> (with <paramref name="state"/>, so a lookup makes no closure).</summary>
    private async Task<T> RequestAsync<TState, T>(string topic, byte[] payload, TimeSpan? timeout, TState state,
        Func<ReadOnlyMemory<byte>, TState, T> parse, CancellationToken cancellationToken)
    {
        var t = ValidTimeout(timeout);
        var request = new DxlRequest(topic, payload) { IsIdempotent = true };
        DxlResponse response;
        try
        {
            response = await Client.RequestAsync(request, t, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (MapError(topic, t, ex) is { } mapped)
        {
            throw mapped;
        }
        return Parse(topic, response, state, parse);
    }

    /// <summary>Maps a DXL failure of a call on <paramref name="topic"/> to a <see cref="TieException"/>, or null to let it pass.</summary>
    public static TieException? MapError(string topic, TimeSpan timeout, Exception ex) => ex switch
    {
        DxlErrorResponseException er when er.IsServiceNotFound => new TieServiceUnavailableException(topic, er),
        DxlErrorResponseException er when er.Code == 0 && IsNotFoundMessage(er.ErrorMessage) => new TieNotFoundException(topic, er.ErrorMessage, er),
        DxlErrorResponseException er => new TieServiceErrorException(topic, er.Code, er.ErrorMessage, er),
        DxlTimeoutException to => new TieTimeoutException(topic, to.Timeout == default ? timeout : to.Timeout, to),
        DxlConnectionException ce => new TieConnectionException(topic, ce),
        _ => null,
    };

    /// <summary><paramref name="timeout"/>, or <see cref="DefaultTimeout"/> when null; it must be positive.</summary>
    private TimeSpan ValidTimeout(TimeSpan? timeout)
    {
        var t = timeout ?? _timeout;
        if (t <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "The timeout must be positive.");
        return t;
    }

    /// <summary>The TIE service's "Could not find reputation" text (any case).</summary>
    public static bool IsNotFoundMessage(string? message) =>
        message is not null && message.Contains("could not find reputation", StringComparison.OrdinalIgnoreCase);

    // The state travels beside a static parser, so that a lookup makes no closure to carry what it asked.
    private static T Parse<TState, T>(string topic, DxlResponse response, TState state, Func<ReadOnlyMemory<byte>, TState, T> parse)
    {
        try
        {
            return parse(response.PayloadMemory, state);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            throw new TieMalformedResponseException(topic, ex.Message, Shorten(response.PayloadText), ex);
        }
    }

    private static string Shorten(string s) => s.Length > 4096 ? s[..4096] + "…" : s;

    private static void RequireHashes(TieHashes hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.IsEmpty) throw new ArgumentException("No file hashes were given (md5, sha1 and/or sha256).", nameof(hashes));
    }

    private static void RequireTrustLevel(TrustLevel trustLevel)
    {
        if (!TieConstants.IsDefined(trustLevel))
            throw new ArgumentOutOfRangeException(nameof(trustLevel), (int)trustLevel,
                $"TrustLevel {(int)trustLevel} is not a valid entry (0, 1, 15, 30, 50, 70, 85, 99, 100).");
    }

    private static void RequireQueryLimit(int queryLimit)
    {
        if (queryLimit < TieConstants.MinQueryLimit || queryLimit > TieConstants.MaxQueryLimit)
            throw new ArgumentOutOfRangeException(nameof(queryLimit), queryLimit,
                $"queryLimit must be between {TieConstants.MinQueryLimit} and {TieConstants.MaxQueryLimit}.");
    }

    private static (byte[] Sha1, byte[]? PublicKey) CertHashes(string sha1, string? publicKeySha1)
    {
        ArgumentNullException.ThrowIfNull(sha1);
        if (string.IsNullOrWhiteSpace(sha1)) throw new ArgumentException("The certificate SHA-1 is empty.", nameof(sha1));
        var cert = TieHashes.ParseHex(HashType.Sha1, sha1);
        var key = string.IsNullOrWhiteSpace(publicKeySha1) ? null : TieHashes.ParseHex(HashType.Sha1, publicKeySha1);
        return (cert, key);
    }
}
