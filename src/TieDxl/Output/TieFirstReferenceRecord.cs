using TieDxl.Tie;

namespace TieDxl;

/// <summary>One system where a file or certificate was first seen (Get-TieFileFirstReference and the certificate variant).</summary>
public sealed class TieFirstReferenceRecord
{
    internal TieFirstReferenceRecord(TieFirstReference reference, string subject, string? name, int? totalCount)
    {
        AgentGuid = reference.AgentGuid;
        Date = reference.Date?.UtcDateTime;
        Subject = subject;
        Name = name;
        TotalCount = totalCount;
    }

    /// <summary>The ePO agent GUID of the system, braces included.</summary>
    public string AgentGuid { get; }
    /// <summary>When that system first referenced the file or certificate (UTC).</summary>
    public DateTime? Date { get; }
    /// <summary>The file or certificate asked about (strongest hash, name).</summary>
    public string Subject { get; }
    public string? Name { get; }
    /// <summary>How many systems TIE knows of in all; more than were returned when -QueryLimit capped the list.</summary>
    public int? TotalCount { get; }

    public override string ToString() => $"{AgentGuid} @ {Date:u}";

    /// <summary>One record per system, then a warning when -QueryLimit cut the list.</summary>
    internal static Pipeline.PipelineMessage Messages(TieFirstReferences references, string subject, string? name)
    {
        var records = references.Agents.Select(a => new TieFirstReferenceRecord(a, subject, name, references.TotalCount)).ToArray();
        var output = new Pipeline.PipelineMessage.Output(records, Enumerate: true);
        return references.IsTruncated
            ? Pipeline.PipelineMessage.Of(output, new Pipeline.PipelineMessage.Warning($"{subject}: {references.TotalCount} systems in all, {records.Length} shown (raise -QueryLimit)."))
            : output;
    }
}
