using System.Text;
using TieDxl.Dxl.Config;

namespace TieDxl.Dxl.Provisioning;

public enum DxlBrokerChangeKind { Unchanged, Added, Changed, Removed }

/// <summary>One broker's fate in an update. <see cref="Previous"/> is the config's entry for Changed ones.</summary>
public sealed record DxlBrokerChange(DxlBrokerChangeKind Kind, DxlBroker Broker, DxlBroker? Previous = null)
{
    public override string ToString() => Kind switch
    {
        DxlBrokerChangeKind.Changed => $"{Kind} {Broker.Id}: {Previous!.ToConfigValue()} -> {Broker.ToConfigValue()}",
        _ => $"{Kind} {Broker.Id}: {Broker.ToConfigValue()}",
    };
}

/// <summary>What an update would do; computed without writing (for -WhatIf), applied by <see cref="DxlClientConfigUpdater.Apply"/>.</summary>
public sealed record DxlClientConfigUpdatePlan(
    string ConfigPath,
    string CaBundlePath,
    bool CaBundleChanged,
    IReadOnlyList<DxlBrokerChange> BrokerChanges,
    IReadOnlyList<DxlBrokerChange> WebSocketBrokerChanges,
    string NewConfigText,
    string NewCaBundlePem)
{
    public bool ConfigChanged => BrokerChanges.Concat(WebSocketBrokerChanges).Any(c => c.Kind != DxlBrokerChangeKind.Unchanged);
    public bool HasChanges => CaBundleChanged || ConfigChanged;
}

/// <summary>
/// The reference <c>updateconfig</c>: the file named by BrokerCertChain gets the new CA bundle; [Brokers] gets the
/// current list — brokers no longer listed are removed with the comment lines just above them, remaining brokers
/// keep their lines (rewritten only when host, port or ip changed) and comments, new brokers follow the last
/// entry. [BrokersWebSockets] changes only when the answer lists WebSocket brokers. Everything else of the file
/// stays byte for byte, line endings included.
/// </summary>
public static class DxlClientConfigUpdater
{
    public static DxlClientConfigUpdatePlan Plan(string configPath, string caBundlePem, EpoBrokerList brokerList)
    {
        var config = DxlClientConfig.Load(configPath);
        var full = config.ConfigFilePath!;
        DxlClientConfigWriter.ValidateCaBundle(caBundlePem);
        if (brokerList.Brokers.Count + brokerList.WebSocketBrokers.Count == 0)
            throw new DxlProvisioningException("ePO lists no broker; the config was left as it is");

        var original = File.ReadAllText(full);
        var newline = original.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var lines = original.Replace("\r\n", "\n").Split('\n').ToList();
        var endsWithNewline = lines.Count > 0 && lines[^1].Length == 0;
        if (endsWithNewline) lines.RemoveAt(lines.Count - 1);

        var brokerChanges = Rewrite(full, lines, "Brokers", brokerList.Brokers, webSocket: false);
        var wsChanges = brokerList.WebSocketBrokers.Count > 0
            ? Rewrite(full, lines, "BrokersWebSockets", brokerList.WebSocketBrokers, webSocket: true)
            : config.WebSocketBrokers.Select(b => new DxlBrokerChange(DxlBrokerChangeKind.Unchanged, b)).ToList();

        var text = string.Join(newline, lines) + (endsWithNewline ? newline : "");
        try { DxlClientConfig.Parse(text, full); }
        catch (DxlConfigException e) { throw new DxlProvisioningException($"the updated config would not read back ({e.Message}); nothing was written", e); }

        var caPath = config.BrokerCertChainPath!;
        var caChanged = !File.Exists(caPath) || !File.ReadAllBytes(caPath).AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(caBundlePem));
        return new DxlClientConfigUpdatePlan(full, caPath, caChanged, brokerChanges, wsChanges, text, caBundlePem);
    }

    /// <summary>Writes the new CA bundle and config (each atomically); files that would not change are not touched.</summary>
    public static void Apply(DxlClientConfigUpdatePlan plan)
    {
        var writes = new List<PlannedFile>();
        if (plan.CaBundleChanged) writes.Add(new PlannedFile(plan.CaBundlePath, Encoding.ASCII.GetBytes(plan.NewCaBundlePem)));
        if (plan.ConfigChanged) writes.Add(new PlannedFile(plan.ConfigPath, Encoding.UTF8.GetBytes(plan.NewConfigText)));
        AtomicFiles.WriteAll(writes);
    }

    /// <summary>Rewrites one broker section of <paramref name="lines"/> in place; returns the changes.</summary>
    private static List<DxlBrokerChange> Rewrite(string file, List<string> lines, string sectionName, IReadOnlyList<DxlBroker> wanted, bool webSocket)
    {
        var sections = DxlConfigFileReader.Parse(file, lines.ToArray());
        var changes = new List<DxlBrokerChange>();
        var byId = new Dictionary<string, DxlBroker>(StringComparer.OrdinalIgnoreCase);
        foreach (var b in wanted)
        {
            if (string.IsNullOrWhiteSpace(b.Id)) throw new DxlProvisioningException($"ePO lists a broker without an id ({b}); the config was left as it is");
            if (!byId.TryAdd(b.Id, b)) throw new DxlProvisioningException($"ePO lists the broker {b.Id} twice; the config was left as it is");
        }

        if (!sections.TryGetValue(sectionName, out var section))
        {
            if (lines.Count > 0 && lines[^1].Trim().Length > 0) lines.Add("");
            lines.Add($"[{sectionName}]");
            foreach (var b in wanted)
            {
                lines.Add(DxlClientConfigWriter.FormatBrokerLine(b));
                changes.Add(new DxlBrokerChange(DxlBrokerChangeKind.Added, b));
            }
            return changes;
        }

        var removeLines = new HashSet<int>();   // 0-based
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var lastEntry = section.Line - 1;
        foreach (var entry in section.Entries)
        {
            var index = entry.Line - 1;
            lastEntry = Math.Max(lastEntry, index);
            var current = DxlBroker.Parse(entry.Value, webSocket, file, entry.Line, entry.Key);
            if (byId.TryGetValue(entry.Key, out var next))
            {
                present.Add(entry.Key);
                if (current.ToConfigValue() == next.ToConfigValue())
                    changes.Add(new DxlBrokerChange(DxlBrokerChangeKind.Unchanged, next));
                else
                {
                    lines[index] = DxlClientConfigWriter.FormatBrokerLine(next);
                    changes.Add(new DxlBrokerChange(DxlBrokerChangeKind.Changed, next, current));
                }
                continue;
            }
            changes.Add(new DxlBrokerChange(DxlBrokerChangeKind.Removed, current));
            removeLines.Add(index);
            // The comment lines right above a removed broker describe it: they go with it.
            for (var above = index - 1; above > section.Line - 1 && lines[above].TrimStart().StartsWith('#'); above--)
                removeLines.Add(above);
        }

        var added = wanted.Where(b => !present.Contains(b.Id!)).ToList();
        lines.InsertRange(lastEntry + 1, added.Select(DxlClientConfigWriter.FormatBrokerLine));
        changes.AddRange(added.Select(b => new DxlBrokerChange(DxlBrokerChangeKind.Added, b)));
        foreach (var index in removeLines.OrderByDescending(i => i)) lines.RemoveAt(index);
        return changes;
    }
}
