namespace TieDxl.Dxl.Client;

/// <summary>DXL topic rules: only a trailing <c>#</c> is a wildcard (the order of the broker and the Java client).</summary>
public static class DxlTopics
{
    public const string ClientReplyPrefix = "/mcafee/client/";

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
