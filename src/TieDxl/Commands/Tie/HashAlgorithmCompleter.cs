using System.Management.Automation;

namespace TieDxl.Commands.Tie;

/// <summary>Tab completion for -Algorithm: the hash types TIE knows.</summary>
public sealed class HashAlgorithmCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters) =>
        new[] { "SHA256", "SHA1", "MD5" }
            .Where(a => a.StartsWith(wordToComplete ?? "", StringComparison.OrdinalIgnoreCase))
            .Select(a => new CompletionResult(a, a, CompletionResultType.ParameterValue, a));
}
