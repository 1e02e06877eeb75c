using System.Text.Json;
using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;
using TieDxl.Tie;

namespace TieDxl.Fabric.Simulator;

/// <summary>How the simulator answers requests.</summary>
public enum TieSimulatorMode
{
    /// <summary>Answers like a TIE server.</summary>
    Normal,
    /// <summary>Sends nothing: requesters time out (as with missing topic authorisation).</summary>
    NoReply,
    /// <summary>Answers every request with an error response (<see cref="TieSimulator.ErrorCode"/>, <see cref="TieSimulator.ErrorMessage"/>).</summary>
    Error,
    /// <summary>Answers every request with a success response whose payload is not JSON (to test malformed-reply handling).</summary>
    Garbage,
}

/// <summary>Options of a <see cref="TieSimulator"/>.</summary>
public sealed class TieSimulatorOptions
{
    /// <summary>The DXL service type to register (default <c>/mcafee/service/tie</c>).</summary>
    public string ServiceType { get; set; } = TieTopics.ServiceType;

    /// <summary>The service instance GUID; null = a new one.</summary>
    public string? ServiceGuid { get; set; }

    /// <summary>A store to use (e.g. shared by several simulators); null = a new one.</summary>
    public TieReputationStore? Store { get; set; }

    /// <summary>Load the built-in seed (notepad.exe, EICAR, UNKNOWN_FILE, cert1, the advanced-sample cert) into a new store.</summary>
    public bool UseBuiltInSeed { get; set; } = true;

    /// <summary>A seed file to load after the built-in seed (format: <see cref="TieSimulatorSeed"/>).</summary>
    public string? SeedFile { get; set; }

    /// <summary>Added delay per request (Task.Delay, no thread blocked). Default none.</summary>
    public TimeSpan ResponseDelay { get; set; }

    public TieSimulatorMode Mode { get; set; }

    /// <summary>Error code of <see cref="TieSimulatorMode.Error"/>. Beware: 0x80000001 makes the broker unregister the service.</summary>
    public long ErrorCode { get; set; }

    public string ErrorMessage { get; set; } = "Simulated TIE server error";

    /// <summary>Publish repchange broadcasts after Enterprise sets and External reports (default true).</summary>
    public bool PublishReputationChanges { get; set; } = true;

    /// <summary>Consume External reports on <c>/mcafee/event/external/file/report</c> (default true).</summary>
    public bool AcceptExternalReports { get; set; } = true;

    /// <summary>
    /// Wait this long for the broker to acknowledge the service registration in <see cref="TieSimulator.StartAsync"/>
    /// (a DXL broker such as the embedded one: requests then route at once). Null (default): do not wait — a plain
    /// MQTT broker such as mosquitto never answers.
    /// </summary>
    public TimeSpan? RegistrationAcknowledgementTimeout { get; set; }

    /// <summary>The clock for createDate / serverTime / updateTime and the change feed's times; null = system UTC.</summary>
    public Func<DateTimeOffset>? Clock { get; set; }

    /// <summary>How many changes the store keeps for the change feed (null: leave the store's, by default <see cref="TieChangeHistory.DefaultCapacity"/>).</summary>
    public int? ChangeHistoryCapacity { get; set; }
}

/// <summary>
/// A TIE server on any <see cref="DxlClient"/>: hosts a DXL service answering the six TIE request topics and the change feed with the
/// real server's payload shapes, consumes External reports, and publishes repchange broadcasts.
/// <para>Behaviour (beyond what the mock TIE server of the OpenDXL TIE client's tests does):</para>
/// <list type="bullet">
/// <item>A request matches a stored item when every supplied hash that is known points to the same item; unknown
/// hashes are ignored (a partial hash set finds the item). Known hashes of different items → error 0 "Could not find reputation".</item>
/// <item>A never-seen file (no hash known) is not an error: the reply holds only an Enterprise (3) NOT_SET entry with
/// prevalence 0 and props (no GTI entry — the simulator has no cloud). Same for certificates (provider 4). Lookups do not create items.</item>
/// <item>Empty, undecodable, wrong-length or all-zero hashes → error code 0 "Could not find reputation" (the reference tests use all-zero hashes for this).</item>
/// <item>Enterprise sets create unknown items, merge new hash types and publish the repchange broadcast (complete old/new sets).</item>
/// <item>External reports are matched by hashes (hex object or base64 array), then by file name when no usable hash is given;
/// an unknown file is created; provider 15 is set and a file repchange broadcast is published.</item>
/// <item>First references: seeded agents; for other items a deterministic function of the hash (0-4 agents);
/// <c>queryLimit</c> (default 100, 1-5000) caps the list, <c>totalCount</c> tells the full count.</item>
/// <item>Certificate requests are answered with or without <c>publicKeySha1</c>.</item>
/// <item>The change feed (<c>reputation/updates</c>) lists, from <see cref="TieReputationStore.Changes"/>, the subjects
/// changed at or after <c>sinceTime</c>, oldest first, one hash each, honouring <c>queryLimit</c>, <c>targeted</c> and
/// <c>targetTypes</c> (see <see cref="HandleReputationUpdates"/>).</item>
/// </list>
/// </summary>
public sealed partial class TieSimulator : IAsyncDisposable
{
    /// <summary>The TIE service's not-found text.</summary>
    public const string NotFoundMessage = "Could not find reputation";

    private readonly Func<DateTimeOffset> _clock;
    private readonly bool _publish;
    private readonly TimeSpan? _ackTimeout;
    private readonly bool _acceptExternal;
    private long _delayTicks;
    private volatile TieSimulatorMode _mode;
    private long _requests, _externalAccepted, _externalRejected;
    private IAsyncDisposable? _externalSubscription;
    private bool _started;
    private readonly SemaphoreSlim _startStop = new(1, 1);

    private readonly Func<DxlEvent, CancellationToken, Task> _send;

    public TieSimulator(DxlClient client, TieSimulatorOptions? options = null)
        : this(options, client ?? throw new ArgumentNullException(nameof(client)), null)
    {
    }

    /// <summary>Tests: a simulator without a connection whose events go to <paramref name="send"/>; call the handlers in <see cref="Service"/>.</summary>
    internal TieSimulator(TieSimulatorOptions? options, Func<DxlEvent, CancellationToken, Task> send)
        : this(options, null, send)
    {
    }

    private TieSimulator(TieSimulatorOptions? options, DxlClient? client, Func<DxlEvent, CancellationToken, Task>? send)
    {
        Client = client!;
        _send = send ?? ((e, ct) => Client.SendEventAsync(e, ct));
        options ??= new TieSimulatorOptions();
        if (options.Store is { } shared)
        {
            Store = shared;
        }
        else
        {
            Store = options.UseBuiltInSeed ? TieReputationStore.CreateSeeded() : new TieReputationStore();
        }
        if (options.SeedFile is { } seed) Store.LoadSeedFile(seed);
        if (options.ChangeHistoryCapacity is { } capacity) Store.Changes.Capacity = capacity;
        _clock = options.Clock ?? (() => DateTimeOffset.UtcNow);
        _publish = options.PublishReputationChanges;
        _ackTimeout = options.RegistrationAcknowledgementTimeout;
        _acceptExternal = options.AcceptExternalReports;
        ResponseDelay = options.ResponseDelay;
        _mode = options.Mode;
        ErrorCode = options.ErrorCode;
        ErrorMessage = options.ErrorMessage;

        Service = new DxlService(options.ServiceType, options.ServiceGuid);
        Service.AddHandler(TieTopics.FileReputation, (r, ct) => HandleAsync(r, HandleFileReputation, ct));
        Service.AddHandler(TieTopics.FileReputationSet, (r, ct) => HandleAsync(r, HandleSetFileReputation, ct));
        Service.AddHandler(TieTopics.CertReputation, (r, ct) => HandleAsync(r, HandleCertReputation, ct));
        Service.AddHandler(TieTopics.CertReputationSet, (r, ct) => HandleAsync(r, HandleSetCertReputation, ct));
        Service.AddHandler(TieTopics.FileAgents, (r, ct) => HandleAsync(r, HandleFileAgents, ct));
        Service.AddHandler(TieTopics.CertAgents, (r, ct) => HandleAsync(r, HandleCertAgents, ct));
        Service.AddHandler(TieTopics.ReputationUpdates, (r, ct) => HandleAsync(r, HandleReputationUpdates, ct));
    }

    public DxlClient Client { get; }
    public DxlService Service { get; }
    public TieReputationStore Store { get; }

    /// <summary>Added delay per request; change at any time.</summary>
    public TimeSpan ResponseDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set
        {
            if (value < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(value));
            Interlocked.Exchange(ref _delayTicks, value.Ticks);
        }
    }

    /// <summary>Normal / NoReply / Error / Garbage; change at any time.</summary>
    public TieSimulatorMode Mode { get => _mode; set => _mode = value; }

    public long ErrorCode { get; set; }
    public string ErrorMessage { get; set; }

    public long RequestCount => Interlocked.Read(ref _requests);
    public long ExternalReportsAccepted => Interlocked.Read(ref _externalAccepted);
    public long ExternalReportsRejected => Interlocked.Read(ref _externalRejected);

    /// <summary>Why the last External report was ignored, or null.</summary>
    public string? LastExternalReportRejection { get; private set; }

    /// <summary>Raised after an External report was applied (item, trust level). From the event thread.</summary>
    public event EventHandler<TieSimItem>? ExternalReportApplied;

    /// <summary>Registers the service and subscribes the External report topic. The client must be connected.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _startStop.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started) return;
            if (_acceptExternal)
                _externalSubscription = await Client.SubscribeAsync(TieTopics.ExternalFileReport, OnExternalReportAsync, cancellationToken).ConfigureAwait(false);
            try
            {
                await Client.RegisterServiceAsync(Service, cancellationToken, _ackTimeout).ConfigureAwait(false);
            }
            catch
            {
                if (_externalSubscription is { } s)
                {
                    _externalSubscription = null;
                    await s.DisposeAsync().ConfigureAwait(false);
                }
                throw;
            }
            _started = true;
        }
        finally
        {
            _startStop.Release();
        }
    }

    /// <summary>Unregisters the service and drops the External report subscription.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _startStop.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started) return;
            _started = false;
            try
            {
                await Client.UnregisterServiceAsync(Service, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (_externalSubscription is { } s)
                {
                    _externalSubscription = null;
                    await s.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _startStop.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DxlException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is gone: nothing left to unregister.
        }
    }

    // ================================================================ request plumbing

    private readonly record struct Outcome(DxlResponse? Response, DxlEvent? Event);

    private async ValueTask<DxlResponse?> HandleAsync(DxlRequest request, Func<DxlRequest, JsonElement, Outcome> body, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        var delay = Interlocked.Read(ref _delayTicks);
        if (delay > 0) await Task.Delay(TimeSpan.FromTicks(delay), cancellationToken).ConfigureAwait(false);
        switch (_mode)
        {
            case TieSimulatorMode.NoReply:
                return null;
            case TieSimulatorMode.Error:
                return new DxlErrorResponse(request, ErrorCode, ErrorMessage);
            case TieSimulatorMode.Garbage:
                return new DxlResponse(request, "<html>not json</html>"u8.ToArray());
        }
        Outcome outcome;
        JsonDocument doc;
        try
        {
            doc = TiePayloads.Parse(request.Payload);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return new DxlErrorResponse(request, 0, "Invalid request payload: " + ex.Message);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return new DxlErrorResponse(request, 0, "Invalid request payload: not a JSON object");
            try
            {
                outcome = body(request, doc.RootElement);
            }
            catch (TiePayloadException ex)
            {
                return new DxlErrorResponse(request, 0, "Invalid request payload: " + ex.Message);
            }
        }
        if (outcome.Event is { } evt) await PublishAsync(evt, cancellationToken).ConfigureAwait(false);
        return outcome.Response;
    }

    private async Task PublishAsync(DxlEvent evt, CancellationToken cancellationToken)
    {
        try
        {
            await _send(evt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DxlException or OperationCanceledException)
        {
            // A change event is fire-and-forget, as from a real TIE server: the request it followed is still answered.
        }
    }

    private long Now => _clock().ToUnixTimeSeconds();

    private static DxlErrorResponse NotFound(DxlRequest request) => new(request, 0, NotFoundMessage);

    /// <summary>Reads and checks request hashes: null when absent, empty, undecodable, of a wrong length or all zero.</summary>
    private static TieHashes? RequestHashes(JsonElement root)
    {
        if (!root.TryGetProperty("hashes", out var he)) return null;
        TieHashes h;
        try
        {
            h = TiePayloads.ReadHashes(he);
        }
        catch (TiePayloadException)
        {
            return null;
        }
        return Usable(h) ? h : null;
    }

    private static bool Usable(TieHashes h)
    {
        if (h.IsEmpty) return false;
        foreach (var o in h.Other.Keys)
            if (TieConstants.TryParseHashType(o, out _)) return false; // a known type of the wrong length
        foreach (var e in h.Entries)
            if (h.GetBytesOrNull(e.Key)!.AsSpan().ContainsAnyExcept((byte)0)) return true;
        return false;
    }

    private static byte[]? Sha1FromHashes(TieHashes h) => h.GetBytesOrNull(HashType.Sha1);

    /// <summary>Certificate request: sha1 in hashes; publicKeySha1 top-level or (mock style) inside hashes.</summary>
    private static bool CertRequest(JsonElement root, out byte[]? sha1, out byte[]? publicKey)
    {
        sha1 = null;
        publicKey = null;
        if (root.TryGetProperty("hashes", out var he))
        {
            TieHashes h;
            try
            {
                h = TiePayloads.ReadHashes(he);
            }
            catch (TiePayloadException)
            {
                return false;
            }
            sha1 = Sha1FromHashes(h);
            if (h.Other.TryGetValue("publicKeySha1", out var pkHex) && pkHex.Length == 40) publicKey = Convert.FromHexString(pkHex);
        }
        if (root.TryGetProperty("publicKeySha1", out var pe) && pe.ValueKind == JsonValueKind.String)
        {
            if (!pe.TryGetBytesFromBase64(out var pk) || pk.Length != 20) return false;
            publicKey = pk;
        }
        if (sha1 is null && publicKey is null) return false;
        var zero = (sha1 is null || !sha1.AsSpan().ContainsAnyExcept((byte)0)) && (publicKey is null || !publicKey.AsSpan().ContainsAnyExcept((byte)0));
        return !zero;
    }

    private static int? Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && TiePayloads.TryGetInt64(e, out var v) && v is >= int.MinValue and <= int.MaxValue ? (int)v : null;

    private static string? Str(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    // ================================================================ handlers

    private Outcome HandleFileReputation(DxlRequest request, JsonElement root)
    {
        if (RequestHashes(root) is not { } hashes) return new(NotFound(request), null);
        var match = Store.MatchFile(hashes, out var item);
        if (match == TieSimMatch.Conflict) return new(NotFound(request), null);
        Store.Changes.RecordLookup(Requester(request), hashes.Entries.Select(e => TieReputationStore.FileKey(e.Key, hashes.GetBytesOrNull(e.Key)!)));
        var now = Now;
        var reps = item?.Reputations ?? UnknownReputations(now, certificate: false);
        return new(new DxlResponse(request, ReputationReply(reps, now)), null);
    }

    private Outcome HandleCertReputation(DxlRequest request, JsonElement root)
    {
        if (!CertRequest(root, out var sha1, out var pk)) return new(NotFound(request), null);
        var match = Store.MatchCertificate(sha1, pk, out var item);
        if (match == TieSimMatch.Conflict) return new(NotFound(request), null);
        Store.Changes.RecordLookup(Requester(request), CertificateKeys(sha1, pk));
        var now = Now;
        var reps = item?.Reputations ?? UnknownReputations(now, certificate: true);
        return new(new DxlResponse(request, ReputationReply(reps, now)), null);
    }

    private Outcome HandleSetFileReputation(DxlRequest request, JsonElement root)
    {
        if (RequestHashes(root) is not { } hashes) return new(NotFound(request), null);
        var provider = Int(root, "providerId") ?? (int)FileProvider.Enterprise;
        if (provider != (int)FileProvider.Enterprise)
            return new(new DxlErrorResponse(request, 0, $"Unsupported providerId {provider}: only Enterprise (3) can be set"), null);
        if (Int(root, "trustLevel") is not { } trust || !TieConstants.IsDefined((TrustLevel)trust))
            return new(new DxlErrorResponse(request, 0, "Invalid trustLevel"), null);
        if (Store.MatchFile(hashes, out var known) == TieSimMatch.Conflict) return new(NotFound(request), null);
        var now = Now;
        var (item, old, @new) = Store.SetFileReputation(hashes, provider, trust, now, Str(root, "filename"), Str(root, "comment"), known);
        var evt = _publish ? new DxlEvent(TieTopics.FileRepChangeBroadcast, FileRepChangeEvent(item, old, @new, now)) : null;
        return new(new DxlResponse(request), evt);
    }

    private Outcome HandleSetCertReputation(DxlRequest request, JsonElement root)
    {
        if (!CertRequest(root, out var sha1, out var pk) || sha1 is null) return new(NotFound(request), null);
        var provider = Int(root, "providerId") ?? (int)CertProvider.Enterprise;
        if (provider != (int)CertProvider.Enterprise)
            return new(new DxlErrorResponse(request, 0, $"Unsupported providerId {provider}: only Enterprise (4) can be set"), null);
        if (Int(root, "trustLevel") is not { } trust || !TieConstants.IsDefined((TrustLevel)trust))
            return new(new DxlErrorResponse(request, 0, "Invalid trustLevel"), null);
        if (Store.MatchCertificate(sha1, pk, out _) == TieSimMatch.Conflict) return new(NotFound(request), null);
        var now = Now;
        var (item, old, @new) = Store.SetCertificateReputation(sha1, pk, provider, trust, now, Str(root, "comment"));
        var evt = _publish ? new DxlEvent(TieTopics.CertRepChangeBroadcast, CertRepChangeEvent(item, old, @new, now)) : null;
        return new(new DxlResponse(request), evt);
    }

    private Outcome HandleFileAgents(DxlRequest request, JsonElement root)
    {
        if (RequestHashes(root) is not { } hashes) return new(NotFound(request), null);
        if (!QueryLimit(root, out var limit)) return new(BadLimit(request), null);
        var match = Store.MatchFile(hashes, out var item);
        if (match == TieSimMatch.Conflict) return new(NotFound(request), null);
        var agents = item?.Agents ?? TieReputationStore.GeneratedAgents(hashes);
        return new(new DxlResponse(request, AgentsReply(agents, limit)), null);
    }

    private Outcome HandleCertAgents(DxlRequest request, JsonElement root)
    {
        if (!CertRequest(root, out var sha1, out var pk)) return new(NotFound(request), null);
        if (!QueryLimit(root, out var limit)) return new(BadLimit(request), null);
        var match = Store.MatchCertificate(sha1, pk, out var item);
        if (match == TieSimMatch.Conflict) return new(NotFound(request), null);
        var agents = item?.Agents ?? TieReputationStore.GeneratedAgents((sha1 ?? pk)!);
        return new(new DxlResponse(request, AgentsReply(agents, limit)), null);
    }

    private static bool QueryLimit(JsonElement root, out int limit)
    {
        limit = 100; // server default when omitted
        if (!root.TryGetProperty("queryLimit", out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (!TiePayloads.TryGetInt64(e, out var v) || v < TieConstants.MinQueryLimit || v > TieConstants.MaxQueryLimit) return false;
        limit = (int)v;
        return true;
    }

    private static IEnumerable<string> CertificateKeys(byte[]? sha1, byte[]? publicKeySha1)
    {
        if (sha1 is not null) yield return TieReputationStore.CertKey(sha1);
        if (publicKeySha1 is not null) yield return TieReputationStore.PublicKeyKey(publicKeySha1);
    }

    /// <summary>Who asked: the client id the broker stamps, else (a plain MQTT broker stamps none) the client's reply topic.</summary>
    private static string Requester(DxlRequest request) =>
        !string.IsNullOrEmpty(request.SourceClientId) ? request.SourceClientId : request.ReplyToTopic ?? "";

    private static DxlErrorResponse BadLimit(DxlRequest request) =>
        new(request, 0, $"queryLimit must be between {TieConstants.MinQueryLimit} and {TieConstants.MaxQueryLimit}");

    // ================================================================ External reports

    /// <summary>Tests: feeds an External report payload as if it arrived on the topic.</summary>
    internal Task ProcessExternalReportAsync(DxlEvent evt) => OnExternalReportAsync(evt);

    private async Task OnExternalReportAsync(DxlEvent evt)
    {
        string? problem;
        TieSimItem? applied = null;
        DxlEvent? change = null;
        try
        {
            problem = ApplyExternalReport(evt.Payload, out applied, out change);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            problem = "malformed report: " + ex.Message;
        }
        if (problem is not null)
        {
            LastExternalReportRejection = problem;
            Interlocked.Increment(ref _externalRejected);
            return;
        }
        Interlocked.Increment(ref _externalAccepted);
        if (change is not null) await PublishAsync(change, CancellationToken.None).ConfigureAwait(false);
        if (applied is not null)
        {
            try
            {
                ExternalReportApplied?.Invoke(this, applied);
            }
            catch
            {
                // An observer's failure must not reach the DXL client's event dispatcher.
            }
        }
    }

    /// <summary>Applies one External report payload; returns why it was ignored, or null.</summary>
    private string? ApplyExternalReport(byte[] payload, out TieSimItem? applied, out DxlEvent? change)
    {
        applied = null;
        change = null;
        using var doc = TiePayloads.Parse(payload);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return "not a JSON object";
        if (!root.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object) return "no 'file' object";
        if (root.TryGetProperty("provider", out var prov) && prov.ValueKind == JsonValueKind.Object
            && Int(prov, "id") is { } pid && pid != (int)FileProvider.External)
            return $"provider.id {pid} is not External (15)";
        if (!file.TryGetProperty("reputation", out var rep) || rep.ValueKind != JsonValueKind.Object || Int(rep, "score") is not { } score)
            return "no file.reputation.score";
        if (!TieConstants.IsDefined((TrustLevel)score)) return $"score {score} is not a trust level";
        string? filename = null;
        if (file.TryGetProperty("attributes", out var attrs) && attrs.ValueKind == JsonValueKind.Object) filename = Str(attrs, "filename");
        var comment = Str(root, "comment");

        TieHashes? hashes = null;
        if (file.TryGetProperty("hashes", out var he))
        {
            try
            {
                var h = TiePayloads.ReadHashes(he, "file.hashes");
                if (Usable(h)) hashes = h;
            }
            catch (TiePayloadException)
            {
                hashes = null;
            }
        }
        TieSimItem? item = null;
        if (hashes is not null)
        {
            if (Store.MatchFile(hashes, out item) == TieSimMatch.Conflict) return "the hashes belong to different files";
        }
        else if (!string.IsNullOrEmpty(filename))
        {
            item = Store.FindFileByName(filename);
            if (item is null) return $"no usable hashes and no file named '{filename}'";
        }
        else
        {
            return "no usable hashes and no file name";
        }
        var now = Now;
        var (target, old, @new) = Store.SetFileReputation(hashes ?? item!.Hashes, (int)FileProvider.External, score, now, filename, comment, item);
        applied = target;
        if (_publish) change = new DxlEvent(TieTopics.FileRepChangeBroadcast, FileRepChangeEvent(target, old, @new, now));
        return null;
    }

    // ================================================================ test helpers: server-originated events

    /// <summary>Publishes a detection event (<c>/mcafee/event/tie/file/detection</c>) as an endpoint report would cause.</summary>
    public Task PublishDetectionAsync(TieHashes hashes, string agentGuid, string name, int localReputation = 1, int remediationAction = 5,
        DateTimeOffset? detectionTime = null, CancellationToken cancellationToken = default)
    {
        var t = (detectionTime ?? _clock()).ToUnixTimeSeconds();
        var payload = TiePayloads.Write((hashes, agentGuid, name, localReputation, remediationAction), t, static (w, a, time) =>
        {
            w.WriteStartObject();
            w.WriteString("agentGuid", a.agentGuid);
            w.WriteNumber("detectionTime", time);
            TiePayloads.WriteHashArray(w, "hashes", a.hashes);
            w.WriteNumber("localReputation", a.localReputation);
            w.WriteString("name", a.name);
            w.WriteNumber("remediationAction", a.remediationAction);
            w.WriteEndObject();
        });
        return _send(new DxlEvent(TieTopics.FileDetection, payload), cancellationToken);
    }

    /// <summary>Publishes a first-instance event (<c>/mcafee/event/tie/file/firstinstance</c>).</summary>
    public Task PublishFirstInstanceAsync(TieHashes hashes, string agentGuid, string name, CancellationToken cancellationToken = default)
    {
        var payload = TiePayloads.Write((hashes, agentGuid, name), 0, static (w, a, _) =>
        {
            w.WriteStartObject();
            w.WriteString("agentGuid", a.agentGuid);
            TiePayloads.WriteHashArray(w, "hashes", a.hashes);
            w.WriteString("name", a.name);
            w.WriteEndObject();
        });
        return _send(new DxlEvent(TieTopics.FileFirstInstance, payload), cancellationToken);
    }

    /// <summary>Publishes a prevalence event (<c>/mcafee/event/tie/file/prevalence</c>, schema shape).</summary>
    public Task PublishPrevalenceAsync(TieHashes hashes, string agentGuid, string name, int enterpriseCount, bool prevalent,
        DateTimeOffset? agentFirstReference = null, CancellationToken cancellationToken = default)
    {
        var first = (agentFirstReference ?? _clock()).ToUnixTimeSeconds();
        var payload = TiePayloads.Write((hashes, agentGuid, name, enterpriseCount, prevalent), first, static (w, a, f) =>
        {
            w.WriteStartObject();
            w.WriteString("agentGuid", a.agentGuid);
            TiePayloads.WriteHashArray(w, "hashes", a.hashes);
            w.WriteString("name", a.name);
            w.WriteNumber("agentFirstReference", f);
            w.WriteNumber("enterpriseCount", a.enterpriseCount);
            w.WriteBoolean("prevalent", a.prevalent);
            w.WriteEndObject();
        });
        return _send(new DxlEvent(TieTopics.FilePrevalence, payload), cancellationToken);
    }

    // ================================================================ payload writers

    /// <summary>What a never-seen item gets: an Enterprise NOT_SET entry with prevalence 0.</summary>
    internal static IReadOnlyList<TieReputation> UnknownReputations(long now, bool certificate)
    {
        var attrs = certificate
            ? new Dictionary<string, string>
            {
                [CertEnterpriseAttrib.Prevalence] = "0",
                [CertEnterpriseAttrib.FirstContact] = TieHashes.Invariant(now),
                [EnterpriseAttrib.ServerVersion] = ServerVersion,
            }
            : new Dictionary<string, string>
            {
                [FileEnterpriseAttrib.Prevalence] = "0",
                [FileEnterpriseAttrib.FirstContact] = TieHashes.Invariant(now),
                [FileEnterpriseAttrib.FileNameCount] = "0",
                [EnterpriseAttrib.ServerVersion] = ServerVersion,
            };
        var provider = certificate ? (int)CertProvider.Enterprise : (int)FileProvider.Enterprise;
        return new[] { new TieReputation(provider, (int)TrustLevel.NotSet, now, certificate, attrs) };
    }

    /// <summary>1.4.0.190 encoded as TIE does.</summary>
    internal const string ServerVersion = "73183493944770750";

    /// <summary><c>{"props":{"serverTime":n,"submitMetaData":1},"reputations":[…]}</c></summary>
    internal static byte[] ReputationReply(IReadOnlyList<TieReputation> reps, long now) =>
        TiePayloads.Write(reps, now, static (w, r, t) =>
        {
            w.WriteStartObject();
            w.WriteStartObject("props");
            w.WriteNumber("serverTime", t);
            w.WriteNumber("submitMetaData", 1);
            w.WriteEndObject();
            WriteReputations(w, "reputations", r);
            w.WriteEndObject();
        });

    internal static void WriteReputations(Utf8JsonWriter w, string name, IReadOnlyList<TieReputation> reps)
    {
        w.WriteStartArray(name);
        foreach (var r in reps)
        {
            w.WriteStartObject();
            if (r.RawAttributes.Count > 0)
            {
                w.WriteStartObject("attributes");
                foreach (var a in r.RawAttributes) w.WriteString(a.Key, a.Value);
                w.WriteEndObject();
            }
            if (r.CreateDateEpoch is { } c) w.WriteNumber("createDate", c);
            w.WriteNumber("providerId", r.ProviderId);
            w.WriteNumber("trustLevel", r.TrustLevelValue);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteRepSet(Utf8JsonWriter w, string name, IReadOnlyList<TieReputation> reps, long now)
    {
        w.WriteStartObject(name);
        WriteReputations(w, "reputations", reps);
        w.WriteStartObject("props");
        w.WriteNumber("serverTime", now);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary><c>{"totalCount":n,"agents":[{"agentGuid":…,"date":…}]}</c></summary>
    internal static byte[] AgentsReply(IReadOnlyList<TieFirstReference> agents, int limit) =>
        TiePayloads.Write(agents, limit, static (w, a, l) =>
        {
            w.WriteStartObject();
            w.WriteNumber("totalCount", a.Count);
            w.WriteStartArray("agents");
            for (var i = 0; i < a.Count && i < l; i++)
            {
                w.WriteStartObject();
                w.WriteString("agentGuid", a[i].AgentGuid);
                if (a[i].DateEpoch is { } d) w.WriteNumber("date", d);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });

    internal static byte[] FileRepChangeEvent(TieSimItem item, IReadOnlyList<TieReputation> old, IReadOnlyList<TieReputation> @new, long now) =>
        RepChangeEvent(item, old, @new, now, static (w, file) =>
        {
            if (file.Certificate is not { } cert) return;
            w.WriteStartObject("relationships");
            w.WriteStartObject("certificate");
            TiePayloads.WriteHashArray(w, "hashes", cert.Hashes);
            if (cert.PublicKeySha1 is { } pk) w.WriteBase64String("publicKeySha1", Convert.FromHexString(pk));
            w.WriteEndObject();
            w.WriteEndObject();
        });

    internal static byte[] CertRepChangeEvent(TieSimItem item, IReadOnlyList<TieReputation> old, IReadOnlyList<TieReputation> @new, long now) =>
        RepChangeEvent(item, old, @new, now, static (w, certificate) =>
        {
            if (certificate.PublicKeySha1 is { } pk) w.WriteBase64String("publicKeySha1", Convert.FromHexString(pk));
        });

    /// <summary>A change event: the shared part, then what only files or only certificates carry.</summary>
    private static byte[] RepChangeEvent(TieSimItem item, IReadOnlyList<TieReputation> old, IReadOnlyList<TieReputation> @new, long now,
        Action<Utf8JsonWriter, TieSimItem> writeOwnFields) =>
        TiePayloads.Write((item, old, @new, writeOwnFields), now, static (w, a, t) =>
        {
            WriteRepChangeStart(w, a.item, a.old, a.@new, t);
            a.writeOwnFields(w, a.item);
            w.WriteEndObject();
        });

    /// <summary>What file and certificate change events share: the object opened, hashes, old and new sets, time.</summary>
    private static void WriteRepChangeStart(Utf8JsonWriter w, TieSimItem item, IReadOnlyList<TieReputation> old, IReadOnlyList<TieReputation> @new, long now)
    {
        w.WriteStartObject();
        TiePayloads.WriteHashArray(w, "hashes", item.Hashes);
        WriteRepSet(w, "oldReputations", old, now);
        WriteRepSet(w, "newReputations", @new, now);
        w.WriteNumber("updateTime", now);
    }
}
