using System.Text;
using System.Text.Json;

namespace TieDxl.Fabric.Broker;

/// <summary>One registered service instance.</summary>
public sealed class DxlServiceRegistration
{
    public required string ServiceGuid { get; init; }
    public required string ServiceType { get; init; }
    public required IReadOnlyList<string> RequestChannels { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> MetaData { get; init; }
    public required uint TtlMins { get; init; }
    public required string ClientGuid { get; init; }
    public required string ClientInstanceGuid { get; init; }
    public required string BrokerGuid { get; init; }
    public required IReadOnlyList<string> Certificates { get; init; }
    public required DateTimeOffset RegistrationTime { get; init; }

    internal bool IsExpired(DateTimeOffset now, TimeSpan grace) =>
        now - RegistrationTime > TimeSpan.FromMinutes(TtlMins) + grace;

    /// <summary>The registration record JSON: the register event payload, or one entry of a query answer.</summary>
    internal void WriteJson(Utf8JsonWriter w, bool forQuery)
    {
        w.WriteStartObject();
        w.WriteString("serviceType", ServiceType);
        w.WriteString("serviceGuid", ServiceGuid);
        w.WriteString("clientGuid", ClientGuid);
        w.WriteString("clientInstanceGuid", ClientInstanceGuid);
        w.WriteString("brokerGuid", BrokerGuid);
        w.WriteNumber("ttlMins", TtlMins);
        w.WriteNumber("registrationTime", RegistrationTime.ToUnixTimeSeconds());
        w.WriteStartArray("requestChannels");
        foreach (var c in RequestChannels) w.WriteStringValue(c);
        w.WriteEndArray();
        w.WriteStartObject("metaData");
        foreach (var kv in MetaData) w.WriteString(kv.Key, kv.Value);
        w.WriteEndObject();
        w.WriteStartArray("certificates");
        foreach (var c in Certificates) w.WriteStringValue(c);
        w.WriteEndArray();
        w.WriteBoolean("managed", false);
        if (forQuery)
        {
            w.WriteBoolean("local", true);
            w.WriteStartArray("unauthorizedChannels");
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}

/// <summary>
/// The broker's service registry: services by GUID and by request topic, round-robin per topic. One short
/// lock guards it; it is never held across an await.
/// </summary>
internal sealed class DxlServiceRegistry
{
    private readonly object _gate = new();
    private readonly Dictionary<string, DxlServiceRegistration> _byGuid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TopicEntry> _byTopic = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _grace;

    public DxlServiceRegistry(TimeProvider time, TimeSpan grace)
    {
        _time = time;
        _grace = grace;
    }

    private sealed class TopicEntry
    {
        public readonly List<DxlServiceRegistration> Services = new();
        public uint Next;
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byGuid.Count;
            }
        }
    }

    /// <summary>Adds or replaces a registration. Returns the expired registrations removed on the way.</summary>
    public void Register(DxlServiceRegistration registration)
    {
        lock (_gate)
        {
            if (_byGuid.TryGetValue(registration.ServiceGuid, out var old)) RemoveLocked(old);
            _byGuid[registration.ServiceGuid] = registration;
            foreach (var topic in registration.RequestChannels)
            {
                if (!_byTopic.TryGetValue(topic, out var entry)) _byTopic[topic] = entry = new TopicEntry();
                if (!entry.Services.Contains(registration)) entry.Services.Add(registration);
            }
        }
    }

    /// <summary>Removes a service when <paramref name="ownerCanonicalId"/> is null or matches its client.</summary>
    public DxlServiceRegistration? Unregister(string serviceGuid, string? ownerCanonicalId)
    {
        lock (_gate)
        {
            if (!_byGuid.TryGetValue(serviceGuid, out var reg)) return null;
            if (ownerCanonicalId is not null && !string.Equals(reg.ClientGuid, ownerCanonicalId, StringComparison.Ordinal)) return null;
            RemoveLocked(reg);
            return reg;
        }
    }

    /// <summary>Removes every service of a connection (on disconnect).</summary>
    public List<DxlServiceRegistration> RemoveInstance(string instanceId)
    {
        var removed = new List<DxlServiceRegistration>();
        lock (_gate)
        {
            foreach (var reg in _byGuid.Values)
            {
                if (string.Equals(reg.ClientInstanceGuid, instanceId, StringComparison.Ordinal)) removed.Add(reg);
            }
            foreach (var reg in removed) RemoveLocked(reg);
        }
        return removed;
    }

    public DxlServiceRegistration? FindByGuid(string serviceGuid)
    {
        lock (_gate)
        {
            if (!_byGuid.TryGetValue(serviceGuid, out var reg)) return null;
            if (reg.IsExpired(_time.GetUtcNow(), _grace))
            {
                RemoveLocked(reg);
                return null;
            }
            return reg;
        }
    }

    /// <summary>Next instance for a request topic: exact topic first, then trailing-# wildcards.</summary>
    public DxlServiceRegistration? Pick(string topic)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_byGuid.Count == 0) return null;
            var found = PickLocked(topic, now);
            if (found is not null) return found;
            // Wildcard sequence: /a/b/c -> /a/b/# -> /a/# -> /# -> #. Each step shortens the topic.
            var current = topic;
            for (int guard = 0; guard < 1024; guard++)
            {
                var pattern = NextWildcard(current);
                if (pattern is null) return null;
                found = PickLocked(pattern, now);
                if (found is not null) return found;
                current = pattern;
            }
            return null;
        }
    }

    /// <summary>The next pattern in the DXL wildcard sequence, or null after "#".</summary>
    internal static string? NextWildcard(string topic)
    {
        if (topic == "#") return null;
        var t = topic.EndsWith('#') ? topic.Substring(0, topic.Length - 1) : topic;
        // Drop the trailing separator of a pattern or a topic ending in '/' before cutting the last element.
        if (topic.EndsWith('#') && t.EndsWith('/')) t = t.Substring(0, t.Length - 1);
        else if (!topic.EndsWith('#') && t.EndsWith('/')) return t + "#";
        int slash = t.LastIndexOf('/');
        return slash < 0 ? "#" : t.Substring(0, slash + 1) + "#";
    }

    private DxlServiceRegistration? PickLocked(string topic, DateTimeOffset now)
    {
        if (!_byTopic.TryGetValue(topic, out var entry)) return null;
        var list = entry.Services;
        for (int tries = list.Count; tries > 0 && list.Count > 0; tries--)
        {
            var reg = list[(int)(entry.Next++ % (uint)list.Count)];
            if (!reg.IsExpired(now, _grace)) return reg;
            // Lazy TTL: an expired instance is dropped when a request would have used it.
            RemoveLocked(reg);
        }
        return null;
    }

    private void RemoveLocked(DxlServiceRegistration reg)
    {
        if (_byGuid.TryGetValue(reg.ServiceGuid, out var current) && ReferenceEquals(current, reg)) _byGuid.Remove(reg.ServiceGuid);
        foreach (var topic in reg.RequestChannels)
        {
            if (_byTopic.TryGetValue(topic, out var entry))
            {
                entry.Services.Remove(reg);
                if (entry.Services.Count == 0) _byTopic.Remove(topic);
            }
        }
    }

    /// <summary>Query answer: {"services": {guid: record}} filtered by serviceGuid or serviceType.</summary>
    public byte[] QueryJson(string? serviceGuid, string? serviceType)
    {
        var now = _time.GetUtcNow();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("services");
            lock (_gate)
            {
                foreach (var reg in _byGuid.Values)
                {
                    if (reg.IsExpired(now, _grace)) continue;
                    if (!string.IsNullOrEmpty(serviceGuid) && reg.ServiceGuid != serviceGuid) continue;
                    if (!string.IsNullOrEmpty(serviceType) && reg.ServiceType != serviceType) continue;
                    w.WritePropertyName(reg.ServiceGuid);
                    reg.WriteJson(w, forQuery: true);
                }
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return WithNewline(buffer.WrittenSpan);
    }

    internal static byte[] WithNewline(ReadOnlySpan<byte> json)
    {
        // Broker JSON payloads end with "\n".
        var result = new byte[json.Length + 1];
        json.CopyTo(result);
        result[^1] = (byte)'\n';
        return result;
    }

    internal static byte[] RecordJson(DxlServiceRegistration reg)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer)) reg.WriteJson(w, forQuery: false);
        return WithNewline(buffer.WrittenSpan);
    }

    internal static byte[] GuidJson(string serviceGuid)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("serviceGuid", serviceGuid);
            w.WriteEndObject();
        }
        return WithNewline(buffer.WrittenSpan);
    }

    internal static readonly Encoding Utf8 = new UTF8Encoding(false);
}
