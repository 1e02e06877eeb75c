using System.Management.Automation;

namespace TieDxl.Commands;

/// <summary>Base of the cmdlets that send one message per pipeline input on a topic: -Topic and -Payload.</summary>
public abstract class DxlMessageCmdletBase : DxlSessionCmdletBase
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Topic { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyString]
    public object? Payload { get; set; }

    /// <summary>Fails before any input is read when there is no session.</summary>
    protected override void BeginProcessing() => _ = CurrentSession;
}
