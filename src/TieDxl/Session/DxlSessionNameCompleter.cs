using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using TieDxl.Session;

namespace TieDxl;

/// <summary>Completes the names of the open sessions of the runspace (Get-DxlSession -Name, -Session).</summary>
public sealed class DxlSessionNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
        foreach (var s in SessionRegistry.Current.Snapshot().OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase))
        {
            if (!pattern.IsMatch(s.Name)) continue;
            var text = NeedsQuotes(s.Name) ? "'" + s.Name.Replace("'", "''") + "'" : s.Name;
            yield return new CompletionResult(text, s.Name, CompletionResultType.ParameterValue, s.ToString());
        }
    }

    private static bool NeedsQuotes(string name) =>
        name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || "'\"`$(){}[];,|&<>@#".Contains(c));
}
