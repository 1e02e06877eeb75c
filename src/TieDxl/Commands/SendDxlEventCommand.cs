using System.Management.Automation;
using TieDxl.Dxl.Messages;

namespace TieDxl.Commands;

/// <summary>Send-DxlEvent: publishes an event on a topic (one per pipeline input). No reply is expected.</summary>
[Cmdlet(VerbsCommunications.Send, "DxlEvent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class SendDxlEventCommand : DxlMessageCmdletBase
{
    [Parameter]
    public SwitchParameter AsJson { get; set; }

    /// <summary>Receiving the event twice does no harm: the session publishes it again after a broker crash that came right after it.</summary>
    [Parameter]
    public SwitchParameter Idempotent { get; set; }

    protected override void ProcessRecord()
    {
        if (!TryGetPayloadBytes(Payload, AsJson.IsPresent, out var bytes)) return;

        if (!ShouldProcess($"topic '{Topic}' ({Infrastructure.Payload.Describe(bytes)}) via {CurrentSession.Name}", "Send DXL event")) return;

        var dxlEvent = new DxlEvent(Topic, bytes) { IsIdempotent = Idempotent.IsPresent };
        var session = CurrentSession;
        // Sent means the broker read it; while the session reconnects the event waits, within -TimeoutSec.
        var timeout = Timeout;
        if (TryRun(ct => session.Client.SendEventAsync(dxlEvent, timeout, ct), Topic, timeout + TimeSpan.FromSeconds(5), session))
            WriteVerbose($"Event {dxlEvent.MessageId} sent on '{Topic}'.");
    }
}
