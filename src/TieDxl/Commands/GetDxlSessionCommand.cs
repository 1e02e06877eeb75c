using System.Management.Automation;
using TieDxl.Session;

namespace TieDxl.Commands;

/// <summary>Get-DxlSession: the open DXL sessions of this runspace, by name (wildcards), id, or the default.</summary>
[Cmdlet(VerbsCommon.Get, "DxlSession", DefaultParameterSetName = NameSet)]
[OutputType(typeof(DxlSession))]
public sealed class GetDxlSessionCommand : TieDxlCmdletBase
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";
    private const string DefaultSet = "Default";

    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(DxlSessionNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true)]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter(ParameterSetName = DefaultSet, Mandatory = true)]
    public SwitchParameter Default { get; set; }

    protected override void ProcessRecord()
    {
        var registry = SessionRegistry.Current;
        var all = registry.Snapshot().OrderBy(s => s.Id).ToArray();
        switch (ParameterSetName)
        {
            case DefaultSet:
                if (registry.Default is { } d) WriteObject(d);
                break;

            case IdSet:
                foreach (var id in Id)
                {
                    var match = all.FirstOrDefault(s => s.Id == id);
                    if (match is not null) WriteObject(match);
                    else WriteError(Errors.ErrorCatalog.SessionNotFound, ErrorCategory.ObjectNotFound, id,
                        $"No open DXL session has the id {id}.");
                }
                break;

            default:
                if (Name is null)
                {
                    foreach (var s in all) WriteObject(s);
                    break;
                }
                var written = new HashSet<DxlSession>();
                foreach (var name in Name)
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
                    var found = false;
                    foreach (var s in all.Where(s => pattern.IsMatch(s.Name)))
                    {
                        found = true;
                        if (written.Add(s)) WriteObject(s);
                    }
                    if (!found && !WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        WriteError(Errors.ErrorCatalog.SessionNotFound, ErrorCategory.ObjectNotFound, name,
                            $"No open DXL session is named '{name}'.");
                    }
                }
                break;
        }
    }
}
