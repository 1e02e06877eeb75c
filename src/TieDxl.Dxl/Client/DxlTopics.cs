namespace TieDxl.Dxl.Client;

/// <summary>DXL topic rules: only a trailing <c>#</c> is a wildcard (the order of the broker and the Java client).</summary>
public static class DxlTopics
{
    /// <summary>Each client's own reply topic is this prefix plus its client id.</summary>
    public const string ClientReplyPrefix = "/mcafee/client/";

    /// <summary>Every topic below this prefix is a service of the broker itself, answered by the broker.</summary>
    public const string BrokerServicePrefix = "/mcafee/service/dxl/";

    /// <summary>Registers (or refreshes) a service with the broker's service registry.</summary>
    public const string ServiceRegister = BrokerServicePrefix + "svcregistry/register";

    /// <summary>Removes a service from the broker's service registry.</summary>
    public const string ServiceUnregister = BrokerServicePrefix + "svcregistry/unregister";

    /// <summary>Lists the registered services (all, or by serviceType or serviceGuid).</summary>
    public const string ServiceQuery = BrokerServicePrefix + "svcregistry/query";

    /// <summary>The broker's health answer (connected clients, its own guid).</summary>
    public const string BrokerHealth = BrokerServicePrefix + "broker/health";

    /// <summary>The brokers of the fabric as the broker knows them.</summary>
    public const string BrokerRegistryQuery = BrokerServicePrefix + "brokerregistry/query";

    /// <summary>Whether a client (by guid) is connected to this broker.</summary>
    public const string ClientRegistryQuery = BrokerServicePrefix + "clientregistry/query";

    /// <summary>How many subscriptions match a topic.</summary>
    public const string BrokerSubscriptionCount = BrokerServicePrefix + "broker/subs";

    /// <summary>Whether topics have subscribers on a broker.</summary>
    public const string BrokerTopicQuery = BrokerServicePrefix + "brokerregistry/topicquery";

    /// <summary>The broker's event after a service registration.</summary>
    public const string ServiceRegisteredEvent = "/mcafee/event/dxl/svcregistry/register";

    /// <summary>The broker's event after a service left the registry.</summary>
    public const string ServiceUnregisteredEvent = "/mcafee/event/dxl/svcregistry/unregister";

    public static bool IsWildcard(string topic) => topic.EndsWith('#');

    /// <summary>True when the topic cannot be published to: empty, or containing MQTT wildcards (the broker disconnects).</summary>
    public static bool IsPublishable(string topic) => topic.Length > 0 && topic.IndexOfAny(['+', '#']) < 0;

    /// <summary>
    /// The wildcard patterns that match <paramref name="topic"/>, most specific first:
    /// <c>/a/b/c</c> → <c>/a/b/#</c>, <c>/a/#</c>, <c>/#</c>, <c>#</c>.
    /// </summary>
    public static IEnumerable<string> WildcardPatterns(string topic)
    {
        if (topic == "#") yield break;
        // A plain topic keeps its own last level's parent ("/a/b/" → "/a/b/#"); a pattern moves one level up.
        var first = !topic.EndsWith('#');
        var current = first ? topic : topic[..^1];
        while (true)
        {
            if (!first && current.EndsWith('/')) current = current[..^1];
            first = false;
            var slash = current.LastIndexOf('/');
            if (slash < 0)
            {
                yield return "#";
                yield break;
            }
            current = current[..(slash + 1)];
            yield return current + "#";
        }
    }

    /// <summary>Whether a subscription (exact, or trailing-# wildcard) matches a topic under DXL dispatch rules.</summary>
    public static bool Matches(string subscription, string topic)
    {
        if (!IsWildcard(subscription)) return string.Equals(subscription, topic, StringComparison.Ordinal);
        foreach (var pattern in WildcardPatterns(topic))
            if (string.Equals(pattern, subscription, StringComparison.Ordinal)) return true;
        return false;
    }
}
