using System.Management.Automation;
using TieDxl.Dxl.Messages;

namespace TieDxl.Commands;

/// <summary>Send-DxlEvent: publishes an event on a topic (one per pipeline input). No reply is expected.</summary>
[Cmdlet(VerbsCommunications.Send, "DxlEvent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class SendDxlEventCommand : TieDxlCmdletBase
{
    private DxlSession _session = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Topic { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyString]
    public object? Payload { get; set; }

    [Parameter]
    public SwitchParameter AsJson { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    [Parameter]
    [DxlSessionTransformation]
    [ArgumentCompleter(typeof(DxlSessionNameCompleter))]
    public DxlSession? Session { get; set; }

    protected override void BeginProcessing() => _session = ResolveSession(Session);

    protected override void ProcessRecord()
    {
        if (!TryGetPayloadBytes(Payload, AsJson.IsPresent, out var bytes)) return;

        if (!ShouldProcess($"topic '{Topic}' ({Infrastructure.Payload.Describe(bytes)}) via {_session.Name}", "Send DXL event")) return;

        var dxlEvent = new DxlEvent(Topic, bytes);
        try
        {
            // Sent means the broker read it; while the session reconnects the event waits, within -TimeoutSec.
            var timeout = TimeSpan.FromSeconds(TimeoutSec);
            RunSync(ct => _session.Client.SendEventAsync(dxlEvent, timeout, ct), timeout + TimeSpan.FromSeconds(5), _session);
            WriteVerbose($"Event {dxlEvent.MessageId} sent on '{Topic}'.");
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            HandleDxlException(ex, Topic);
        }
    }
}
