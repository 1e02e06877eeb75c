using System.Management.Automation;
using TieDxl.Dxl.Messages;
using TieDxl.Infrastructure;

namespace TieDxl.Commands;

/// <summary>
/// Invoke-DxlRequest: sends a request on a topic and writes the response payload (text, bytes, or parsed
/// JSON). One request per pipeline input; errors of one request do not stop the others, a lost connection does.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "DxlRequest", DefaultParameterSetName = TextSet)]
[OutputType(typeof(string), ParameterSetName = new[] { TextSet })]
[OutputType(typeof(byte[]), ParameterSetName = new[] { BytesSet })]
[OutputType(typeof(PSObject), ParameterSetName = new[] { JsonSet })]
public sealed class InvokeDxlRequestCommand : DxlMessageCmdletBase
{
    private const string TextSet = "Text";
    private const string BytesSet = "Bytes";
    private const string JsonSet = "Json";

    [Parameter(ParameterSetName = JsonSet, Mandatory = true)]
    public SwitchParameter AsJson { get; set; }

    [Parameter(ParameterSetName = BytesSet, Mandatory = true)]
    public SwitchParameter AsBytes { get; set; }

    /// <summary>Repeating the request is harmless: when its answer is lost with the connection it is sent again after the reconnect.</summary>
    [Parameter]
    public SwitchParameter Idempotent { get; set; }

    protected override void ProcessRecord()
    {
        if (!TryGetPayloadBytes(Payload, AsJson.IsPresent, out var bytes)) return;

        var timeout = Timeout;
        var session = CurrentSession;
        var request = new DxlRequest(Topic, bytes) { IsIdempotent = Idempotent.IsPresent };
        WriteVerbose($"Request {request.MessageId} on '{Topic}' ({Infrastructure.Payload.Describe(bytes)}), timeout {TimeoutSec} s.");
        // The client enforces the timeout; the outer limit only guards against a client that never answers.
        if (!TryRun(ct => session.Client.RequestAsync(request, timeout, ct), Topic, out var response, timeout + TimeSpan.FromSeconds(10), session))
            return;

        if (AsBytes)
        {
            WriteObject(response.Payload);
        }
        else if (AsJson)
        {
            var text = response.PayloadText;
            try
            {
                foreach (var o in Infrastructure.Payload.FromJson(text)) WriteObject(o);
            }
            catch (FormatException ex)
            {
                WriteError(Errors.ErrorCatalog.InvalidJson, ErrorCategory.InvalidData, text, $"The response on '{Topic}' is not valid JSON: {ex.Message}", ex);
            }
        }
        else
        {
            WriteObject(response.PayloadText);
        }
    }
}
