namespace TieDxl.Tie;

/// <summary>One provider's reputation of a file or certificate.</summary>
public sealed class TieReputation
{
    private static readonly IReadOnlyList<TieAttribute> NoAttributes = Array.Empty<TieAttribute>();
    private static readonly IReadOnlyDictionary<string, string> NoRaw = new Dictionary<string, string>();

    private IReadOnlyList<TieAttribute>? _attributes;
    private IReadOnlyDictionary<string, string>? _rawAttributes;

    // The attributes object as it came in a reply, read into RawAttributes on first use (empty when none came).
    private ReadOnlyMemory<byte> _attributesJson;

    public TieReputation(int providerId, int trustLevel, long? createDate, bool isCertificate,
        IReadOnlyDictionary<string, string>? attributes = null, long? detectTime = null, TieOverriddenFiles? overridden = null)
        : this(providerId, trustLevel, createDate, isCertificate, detectTime, overridden)
    {
        _rawAttributes = attributes ?? NoRaw;
    }

    private TieReputation(int providerId, int trustLevel, long? createDate, bool isCertificate, long? detectTime, TieOverriddenFiles? overridden)
    {
        ProviderId = providerId;
        TrustLevelValue = trustLevel;
        CreateDateEpoch = createDate;
        IsCertificate = isCertificate;
        DetectTimeEpoch = detectTime;
        Overridden = overridden;
    }

    /// <summary>
    /// A reputation read from a reply whose <c>attributes</c> object (already checked to be one) stays as JSON until
    /// read: most lookups are judged by their trust levels alone.
    /// </summary>
    internal static TieReputation FromReply(int providerId, int trustLevel, long? createDate, bool isCertificate,
        ReadOnlyMemory<byte> attributesJson, long? detectTime, TieOverriddenFiles? overridden)
    {
        var reputation = new TieReputation(providerId, trustLevel, createDate, isCertificate, detectTime, overridden);
        if (attributesJson.IsEmpty) reputation._rawAttributes = NoRaw;
        else reputation._attributesJson = attributesJson;
        return reputation;
    }

    public int ProviderId { get; }

    /// <summary>GTI, Enterprise, ATD, MWG, External (certificates: GTI, Enterprise), or the id as text.</summary>
    public string ProviderName => IsCertificate ? TieConstants.CertProviderName(ProviderId) : TieConstants.FileProviderName(ProviderId);

    /// <summary>The trust level; an undefined value is kept (cast) — check <see cref="IsKnownTrustLevel"/>.</summary>
    public TrustLevel TrustLevel => (TrustLevel)TrustLevelValue;

    public int TrustLevelValue { get; }

    public bool IsKnownTrustLevel => TieConstants.IsDefined(TrustLevel);

    /// <summary>The enum name, or the number for undefined values.</summary>
    public string TrustLevelName => TieConstants.TrustLevelName(TrustLevelValue);

    public long? CreateDateEpoch { get; }
    public DateTimeOffset? CreateDate => TieTime.FromEpoch(CreateDateEpoch);

    /// <summary>Schema extra <c>detectTime</c>, when present.</summary>
    public long? DetectTimeEpoch { get; }
    public DateTimeOffset? DetectTime => TieTime.FromEpoch(DetectTimeEpoch);

    public bool IsCertificate { get; }

    /// <summary>Decoded attributes with readable names, in wire order.</summary>
    /// <remarks>Made on first read: most lookups are judged by their trust levels and never read an attribute.</remarks>
    public IReadOnlyList<TieAttribute> Attributes
    {
        get
        {
            if (Volatile.Read(ref _attributes) is { } made) return made;
            var list = NameAttributes();
            // Two threads reading at once name the same attributes; the first list published is kept.
            return Interlocked.CompareExchange(ref _attributes, list, null) ?? list;
        }
    }

    private IReadOnlyList<TieAttribute> NameAttributes()
    {
        if (RawAttributes.Count == 0) return NoAttributes;
        var cls = TieAttributeNames.ClassOf(ProviderId, IsCertificate);
        var list = new TieAttribute[RawAttributes.Count];
        var i = 0;
        foreach (var kv in RawAttributes) list[i++] = new TieAttribute(kv.Key, kv.Value, cls);
        return list;
    }

    /// <summary>The attributes as sent: id → string value.</summary>
    public IReadOnlyDictionary<string, string> RawAttributes
    {
        get
        {
            if (Volatile.Read(ref _rawAttributes) is { } read) return read;
            var attributes = TiePayloads.ReadAttributes(_attributesJson);
            // Two threads reading at once read the same JSON; the first table published is kept.
            return Interlocked.CompareExchange(ref _rawAttributes, attributes, null) ?? attributes;
        }
    }

    /// <summary>Certificates: files signed by it that carry an Enterprise override, when given inside the reputation.</summary>
    public TieOverriddenFiles? Overridden { get; }

    public string? GetAttribute(string id) => RawAttributes.TryGetValue(id, out var v) ? v : null;

    public override string ToString() => $"{ProviderName}: {TrustLevelName}";
}

/// <summary>Server properties of a reply (<c>props</c>).</summary>
public sealed class TieServerProperties
{
    public static TieServerProperties Empty { get; } = new(null, null, null, null);

    public TieServerProperties(long? serverTime, int? submitMetaData, int? atdCandidate, string? masterServer)
    {
        ServerTimeEpoch = serverTime;
        SubmitMetaDataValue = submitMetaData;
        AtdCandidateValue = atdCandidate;
        MasterServer = masterServer;
    }

    public long? ServerTimeEpoch { get; }
    public DateTimeOffset? ServerTime => TieTime.FromEpoch(ServerTimeEpoch);
    public int? SubmitMetaDataValue { get; }
    /// <summary>The server asks for file metadata to be submitted.</summary>
    public bool SubmitMetaData => SubmitMetaDataValue is > 0;
    public int? AtdCandidateValue { get; }
    /// <summary>The server asks for the sample to be sent to ATD.</summary>
    public bool AtdCandidate => AtdCandidateValue is > 0;
    /// <summary><c>host;ip</c>, only with <see cref="AtdCandidate"/>.</summary>
    public string? MasterServer { get; }
}

/// <summary>Files signed by a certificate that carry an Enterprise override.</summary>
public sealed class TieOverriddenFiles
{
    public TieOverriddenFiles(bool truncated, IReadOnlyList<TieHashes> files)
    {
        Truncated = truncated;
        Files = files;
    }

    /// <summary>The list is incomplete.</summary>
    public bool Truncated { get; }
    public IReadOnlyList<TieHashes> Files { get; }
}

/// <summary>Where a lookup's answer came from.</summary>
public enum TieAnswerSource
{
    /// <summary>A request to TIE made for this lookup.</summary>
    Tie = 0,

    /// <summary>The request of an earlier input of the same run that named the same file or certificate.</summary>
    Shared = 1,

    /// <summary>The session's reputation cache.</summary>
    Cache = 2,
}

/// <summary>Common part of file and certificate lookups.</summary>
public abstract class TieReputationResult
{
    private protected TieReputationResult(IReadOnlyList<TieReputation> reputations, TieServerProperties props)
    {
        Reputations = reputations;
        Props = props;
        // A result is made when its reply is read, so this is when TIE gave the answer.
        RetrievedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>The same answer, told as coming from <paramref name="source"/>: copies share the reputations.</summary>
    private protected TieReputationResult(TieReputationResult answer, TieAnswerSource source)
    {
        Reputations = answer.Reputations;
        Props = answer.Props;
        RetrievedAt = answer.RetrievedAt;
        Source = source;
    }

    /// <summary>When TIE gave this answer (UTC); older than now when it came from the session's cache.</summary>
    public DateTimeOffset RetrievedAt { get; }

    /// <summary>Where this answer came from: TIE itself, a request shared with an earlier input of the run, or the session's cache.</summary>
    public TieAnswerSource Source { get; }

    /// <summary>True when the answer came from the session's cache instead of a request to TIE.</summary>
    public bool FromCache => Source == TieAnswerSource.Cache;

    /// <summary>How old the answer is at <paramref name="now"/>.</summary>
    public TimeSpan AgeAt(DateTimeOffset now) => now - RetrievedAt;

    /// <summary>One entry per provider (a later duplicate replaces an earlier one), in wire order.</summary>
    public IReadOnlyList<TieReputation> Reputations { get; }

    public TieServerProperties Props { get; }

    public DateTimeOffset? ServerTime => Props.ServerTime;

    public TieReputation? GetReputation(int providerId)
    {
        foreach (var r in Reputations)
            if (r.ProviderId == providerId) return r;
        return null;
    }

    /// <summary>The lowest trust level among providers that set one (NOT_SET excluded); null when none.</summary>
    public TieReputation? MostSevere
    {
        get
        {
            TieReputation? best = null;
            foreach (var r in Reputations)
                if (r.TrustLevelValue != 0 && (best is null || r.TrustLevelValue < best.TrustLevelValue)) best = r;
            return best;
        }
    }

    /// <summary>The highest trust level among providers that set one (NOT_SET excluded); null when none.</summary>
    public TieReputation? MostTrusted
    {
        get
        {
            TieReputation? best = null;
            foreach (var r in Reputations)
                if (r.TrustLevelValue != 0 && (best is null || r.TrustLevelValue > best.TrustLevelValue)) best = r;
            return best;
        }
    }

    /// <summary>The trust level of <see cref="MostSevere"/>, or NOT_SET.</summary>
    public TrustLevel EffectiveTrustLevel => MostSevere?.TrustLevel ?? TrustLevel.NotSet;
}

/// <summary>The reply to a file reputation lookup.</summary>
public sealed class FileReputationResult : TieReputationResult
{
    public FileReputationResult(TieHashes hashes, IReadOnlyList<TieReputation> reputations, TieServerProperties props)
        : base(reputations, props)
    {
        Hashes = hashes;
    }

    private FileReputationResult(FileReputationResult answer, TieAnswerSource source) : base(answer, source)
    {
        Hashes = answer.Hashes;
    }

    /// <summary>This answer told as coming from <paramref name="source"/> (a shallow copy).</summary>
    internal FileReputationResult From(TieAnswerSource source) => new(this, source);

    /// <summary>The hashes that were looked up.</summary>
    public TieHashes Hashes { get; }

    public TieReputation? Gti => GetReputation((int)FileProvider.Gti);
    public TieReputation? Enterprise => GetReputation((int)FileProvider.Enterprise);
    public TieReputation? Atd => GetReputation((int)FileProvider.Atd);
    public TieReputation? Mwg => GetReputation((int)FileProvider.Mwg);
    public TieReputation? External => GetReputation((int)FileProvider.External);

    public TieReputation? GetReputation(FileProvider provider) => GetReputation((int)provider);

    /// <summary>
    /// True when a provider other than External has a trust level other than NOT_SET (0) and UNKNOWN (50): the
    /// check the official "set external reputation" sample does before reporting (External is only a fallback).
    /// </summary>
    public bool HasDefinitiveNonExternalReputation => HasDefinitiveNonExternal(Reputations);

    public static bool HasDefinitiveNonExternal(IEnumerable<TieReputation> reputations)
    {
        foreach (var r in reputations)
            if (r.ProviderId != (int)FileProvider.External && r.TrustLevelValue != (int)TrustLevel.NotSet && r.TrustLevelValue != (int)TrustLevel.Unknown)
                return true;
        return false;
    }
}

/// <summary>The reply to a certificate reputation lookup.</summary>
public sealed class CertificateReputationResult : TieReputationResult
{
    public CertificateReputationResult(string sha1, string? publicKeySha1, IReadOnlyList<TieReputation> reputations,
        TieServerProperties props, TieOverriddenFiles? overridden)
        : base(reputations, props)
    {
        Sha1 = sha1;
        PublicKeySha1 = publicKeySha1;
        Overridden = overridden;
    }

    private CertificateReputationResult(CertificateReputationResult answer, TieAnswerSource source) : base(answer, source)
    {
        Sha1 = answer.Sha1;
        PublicKeySha1 = answer.PublicKeySha1;
        Overridden = answer.Overridden;
    }

    /// <summary>This answer told as coming from <paramref name="source"/> (a shallow copy).</summary>
    internal CertificateReputationResult From(TieAnswerSource source) => new(this, source);

    /// <summary>Lower-case hex SHA-1 of the certificate (as asked).</summary>
    public string Sha1 { get; }

    /// <summary>Lower-case hex SHA-1 of the public key (as asked), or null.</summary>
    public string? PublicKeySha1 { get; }

    /// <summary>
    /// Overridden files, from the top-level <c>overridden</c> (server schema) and/or inside reputations (the
    /// clients' placement), merged; null when neither is present.
    /// </summary>
    public TieOverriddenFiles? Overridden { get; }

    public TieReputation? Gti => GetReputation((int)CertProvider.Gti);
    public TieReputation? Enterprise => GetReputation((int)CertProvider.Enterprise);
    public TieReputation? GetReputation(CertProvider provider) => GetReputation((int)provider);
}

/// <summary>One system's first reference to a file or certificate.</summary>
public sealed class TieFirstReference
{
    public TieFirstReference(string agentGuid, long? date)
    {
        AgentGuid = agentGuid;
        DateEpoch = date;
    }

    /// <summary>The agent GUID, braces included.</summary>
    public string AgentGuid { get; }
    public long? DateEpoch { get; }
    public DateTimeOffset? Date => TieTime.FromEpoch(DateEpoch);

    public override string ToString() => $"{AgentGuid} @ {Date:u}";
}

/// <summary>The reply to a first-references query.</summary>
public sealed class TieFirstReferences
{
    public TieFirstReferences(IReadOnlyList<TieFirstReference> agents, int? totalCount)
    {
        Agents = agents;
        TotalCount = totalCount;
    }

    public IReadOnlyList<TieFirstReference> Agents { get; }

    /// <summary>How many systems the server knows of (may exceed <see cref="Agents"/>.Count); null if not sent.</summary>
    public int? TotalCount { get; }

    /// <summary>The server capped the list (<c>totalCount</c> above the returned count).</summary>
    public bool IsTruncated => TotalCount is { } t && t > Agents.Count;

    /// <summary>What was asked (set by the client).</summary>
    public TieHashes? Hashes { get; set; }
}

/// <summary>A certificate named by a file event's <c>relationships.certificate</c>.</summary>
public sealed class TieCertificateReference
{
    public TieCertificateReference(TieHashes hashes, string? publicKeySha1)
    {
        Hashes = hashes;
        PublicKeySha1 = publicKeySha1;
    }

    public TieHashes Hashes { get; }
    public string? Sha1 => Hashes.Sha1;
    /// <summary>Lower-case hex.</summary>
    public string? PublicKeySha1 { get; }
}

/// <summary>Base of the TIE events.</summary>
public abstract class TieEvent
{
    private protected TieEvent(string topic, TieHashes hashes)
    {
        Topic = topic;
        Hashes = hashes;
    }

    /// <summary>The topic the event arrived on.</summary>
    public string Topic { get; }

    /// <summary>The hashes of the file or certificate (lower-case hex).</summary>
    public TieHashes Hashes { get; }

    /// <summary>The JSON payload as received (for logging / pass-through).</summary>
    public string RawJson { get; internal set; } = "";
}

/// <summary>Old and new reputations of a reputation-change event.</summary>
public abstract class TieReputationChangeEvent : TieEvent
{
    private protected TieReputationChangeEvent(string topic, TieHashes hashes, IReadOnlyList<TieReputation> oldReps,
        IReadOnlyList<TieReputation> newReps, long? updateTime) : base(topic, hashes)
    {
        OldReputations = oldReps;
        NewReputations = newReps;
        UpdateTimeEpoch = updateTime;
    }

    /// <summary>The complete set before the change.</summary>
    public IReadOnlyList<TieReputation> OldReputations { get; }

    /// <summary>The complete set after the change.</summary>
    public IReadOnlyList<TieReputation> NewReputations { get; }

    public long? UpdateTimeEpoch { get; }
    public DateTimeOffset? UpdateTime => TieTime.FromEpoch(UpdateTimeEpoch);

    public TieReputation? GetOld(int providerId) => Find(OldReputations, providerId);
    public TieReputation? GetNew(int providerId) => Find(NewReputations, providerId);

    private static TieReputation? Find(IReadOnlyList<TieReputation> list, int id)
    {
        foreach (var r in list)
            if (r.ProviderId == id) return r;
        return null;
    }
}

/// <summary><c>/mcafee/event/tie/file/repchange/broadcast</c>.</summary>
public sealed class FileReputationChangeEvent : TieReputationChangeEvent
{
    public FileReputationChangeEvent(string topic, TieHashes hashes, IReadOnlyList<TieReputation> oldReps,
        IReadOnlyList<TieReputation> newReps, long? updateTime, TieCertificateReference? certificate)
        : base(topic, hashes, oldReps, newReps, updateTime)
    {
        Certificate = certificate;
    }

    /// <summary><c>relationships.certificate</c>, when present.</summary>
    public TieCertificateReference? Certificate { get; }
}

/// <summary><c>/mcafee/event/tie/cert/repchange/broadcast</c>.</summary>
public sealed class CertificateReputationChangeEvent : TieReputationChangeEvent
{
    public CertificateReputationChangeEvent(string topic, TieHashes hashes, IReadOnlyList<TieReputation> oldReps,
        IReadOnlyList<TieReputation> newReps, long? updateTime, string? publicKeySha1)
        : base(topic, hashes, oldReps, newReps, updateTime)
    {
        PublicKeySha1 = publicKeySha1;
    }

    public string? Sha1 => Hashes.Sha1;

    /// <summary>Lower-case hex.</summary>
    public string? PublicKeySha1 { get; }
}

/// <summary><c>/mcafee/event/tie/file/detection</c>.</summary>
public sealed class FileDetectionEvent : TieEvent
{
    public FileDetectionEvent(string topic, TieHashes hashes, string? agentGuid, long? detectionTime, int? localReputation,
        string? name, int? remediationAction) : base(topic, hashes)
    {
        AgentGuid = agentGuid;
        DetectionTimeEpoch = detectionTime;
        LocalReputationValue = localReputation;
        Name = name;
        RemediationAction = remediationAction;
    }

    public string? AgentGuid { get; }
    public long? DetectionTimeEpoch { get; }
    public DateTimeOffset? DetectionTime => TieTime.FromEpoch(DetectionTimeEpoch);
    public int? LocalReputationValue { get; }
    public TrustLevel? LocalReputation => LocalReputationValue is { } v ? (TrustLevel)v : null;
    public string? Name { get; }
    public int? RemediationAction { get; }
}

/// <summary><c>/mcafee/event/tie/file/firstinstance</c>.</summary>
public class FileFirstInstanceEvent : TieEvent
{
    public FileFirstInstanceEvent(string topic, TieHashes hashes, string? agentGuid, string? name) : base(topic, hashes)
    {
        AgentGuid = agentGuid;
        Name = name;
    }

    public string? AgentGuid { get; }
    public string? Name { get; }
}

/// <summary><c>/mcafee/event/tie/file/prevalence</c> (server schema; no official client wraps it).</summary>
public sealed class FilePrevalenceEvent : FileFirstInstanceEvent
{
    public FilePrevalenceEvent(string topic, TieHashes hashes, string? agentGuid, string? name, long? agentFirstReference,
        int? enterpriseCount, bool? prevalent) : base(topic, hashes, agentGuid, name)
    {
        AgentFirstReferenceEpoch = agentFirstReference;
        EnterpriseCount = enterpriseCount;
        Prevalent = prevalent;
    }

    public long? AgentFirstReferenceEpoch { get; }
    public DateTimeOffset? AgentFirstReference => TieTime.FromEpoch(AgentFirstReferenceEpoch);
    public int? EnterpriseCount { get; }
    public bool? Prevalent { get; }
}

/// <summary>Epoch conversions that never throw.</summary>
public static class TieTime
{
    private const long MaxSeconds = 253402300799;
    private const long MinSeconds = -62135596800;

    /// <summary>
    /// Seconds since 1970 UTC → time; a value too large for seconds is read as milliseconds (as XSOAR does);
    /// null for null or out-of-range values.
    /// </summary>
    public static DateTimeOffset? FromEpoch(long? seconds)
    {
        if (seconds is not { } s) return null;
        if (s >= MinSeconds && s <= MaxSeconds) return DateTimeOffset.FromUnixTimeSeconds(s);
        if (s > MaxSeconds && s <= MaxSeconds * 1000) return DateTimeOffset.FromUnixTimeMilliseconds(s);
        return null;
    }

    public static long ToEpoch(DateTimeOffset time) => time.ToUnixTimeSeconds();
}
