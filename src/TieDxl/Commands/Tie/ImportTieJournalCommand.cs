using System.Collections.ObjectModel;
using System.Management.Automation;
using TieDxl.Errors;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Reading journals by path, for Import-TieJournal and Undo-TieReputation: wildcards or literal paths, a torn last
/// line is a warning, a file that is not a journal is a non-terminating error naming it (the other files are read).
/// </summary>
internal static class TieJournalFiles
{
    public const string PathSet = "Path";
    public const string LiteralPathSet = "LiteralPath";

    public static IEnumerable<TieJournalEntry> Read(PSCmdlet cmdlet, string[] paths, bool literal)
    {
        foreach (var given in paths)
        {
            foreach (var file in Resolve(cmdlet, given, literal))
            {
                IReadOnlyList<TieJournalEntry> entries;
                try
                {
                    entries = TieJournal.Read(file, cmdlet.WriteWarning);
                }
                catch (TieJournalException e)
                {
                    cmdlet.WriteError(ErrorCatalog.FromException(e, given));
                    continue;
                }
                foreach (var entry in entries) yield return entry;
            }
        }
    }

    private static Collection<string> Resolve(PSCmdlet cmdlet, string given, bool literal)
    {
        try
        {
            if (literal) return new Collection<string> { cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(given) };
            return cmdlet.GetResolvedProviderPathFromPSPath(given, out _);
        }
        catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or PSArgumentException)
        {
            cmdlet.WriteError(ErrorCatalog.Create(ErrorCatalog.FileNotFound, ErrorCategory.ObjectNotFound, given, $"No journal matches '{given}': {e.Message}", e));
            return new Collection<string>();
        }
    }
}

/// <summary>Import-TieJournal: the entries of journals written by -JournalPath, one typed object per line, in file order.</summary>
[Cmdlet(VerbsData.Import, "TieJournal", DefaultParameterSetName = TieJournalFiles.PathSet)]
[OutputType(typeof(TieJournalEntry))]
public sealed class ImportTieJournalCommand : PSCmdlet
{
    [Parameter(ParameterSetName = TieJournalFiles.PathSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = TieJournalFiles.LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == TieJournalFiles.LiteralPathSet;
        foreach (var entry in TieJournalFiles.Read(this, literal ? LiteralPath : Path, literal)) WriteObject(entry);
    }
}
