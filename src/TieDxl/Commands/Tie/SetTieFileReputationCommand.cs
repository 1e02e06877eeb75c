using System.Management.Automation;
using TieDxl.Output;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Set-TieFileReputation: sets the Enterprise reputation (provider 3), which overrides every other provider
/// across the enterprise and is never aged out. Prefer Set-TieExternalReputation for automated feeds.
/// </summary>
[Cmdlet(VerbsCommon.Set, "TieFileReputation", DefaultParameterSetName = TieFileInputParameters.InputObjectSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TieSetReputationResult))]
public sealed class SetTieFileReputationCommand : TieFileCmdletBase
{
    [Parameter(Mandatory = true)]
    public TrustLevel TrustLevel { get; set; }

    [Parameter]
    [Alias("Name")]
    public string? FileName { get; set; }

    [Parameter]
    public string? Comment { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override string ProgressActivity => "Set-TieFileReputation";
    private protected override string? ParameterFileName => FileName;


    private protected override void ProcessItem(TieFileInput input)
    {
        if (!ShouldProcess(input.Describe(), $"Set the Enterprise reputation to {TrustLevel} (overrides every provider, enterprise-wide)"))
            return;
        var trustLevel = TrustLevel;
        Enqueue(input, async ct =>
        {
            var hashes = input.Hashes ?? await FileHasher.HashAsync(input.FilePath!, ct).ConfigureAwait(false);
            var name = FileName ?? input.Name;
            try
            {
                await Tie.SetFileReputationAsync(hashes, trustLevel, name, Comment, Timeout, ct).ConfigureAwait(false);
            }
            catch (TieException e)
            {
                return new ItemOutcome
                {
                    Error = TieErrors.FromException(e, input),
                    Output = PassThru ? new TieSetReputationResult("Enterprise", hashes, name, input.DisplayPath, trustLevel, TieSetReputationStatus.Failed, e.Message) : null,
                };
            }
            return new ItemOutcome
            {
                Verbose = $"Enterprise reputation {trustLevel} set for {TieTargets.Describe(hashes, name)}.",
                Output = PassThru ? new TieSetReputationResult("Enterprise", hashes, name, input.DisplayPath, trustLevel, TieSetReputationStatus.Sent, null) : null,
            };
        }, e => PassThru
            ? new TieSetReputationResult("Enterprise", input.Hashes ?? TieHashes.Empty, FileName ?? input.Name, input.DisplayPath, trustLevel, TieSetReputationStatus.Failed, e.Message)
            : null);
    }
}
