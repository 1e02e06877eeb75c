using System.Management.Automation;
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
        var template = new TieEnterpriseReputationRequest(TrustLevel) { FileName = FileName ?? input.Name, Comment = Comment };
        var passThru = PassThru.IsPresent;
        EnqueueFile(input, async (hashes, ct) =>
        {
            var outcome = await Tie.SetEnterpriseReputationAsync(template with { Hashes = hashes }, ct).ConfigureAwait(false);
            var itemName = TieTargets.Describe(hashes, template.FileName);
            return PipelineMessage.Of(
                SetOutcomeMessage(outcome, input.Target, itemName, $"Enterprise reputation {template.TrustLevel} set for {itemName}."),
                passThru ? new PipelineMessage.Output(new TieSetReputationResult(TieReputationProvider.Enterprise, hashes, template.FileName, input.DisplayPath, template.TrustLevel, outcome)) : null);
        }, e => passThru
            ? new PipelineMessage.Output(new TieSetReputationResult(TieReputationProvider.Enterprise, input.Hashes ?? TieHashes.Empty, template.FileName, input.DisplayPath, template.TrustLevel, TieSetOutcome.Failed(e)))
            : null);
    }
}
