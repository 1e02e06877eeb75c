using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using TieDxl.Session;

namespace TieDxl;

/// <summary>
/// Lets <c>-Session</c> take a session object, or the name or id of an open session of the runspace
/// (<c>-Session prod</c>). Anything else is left to the binder, which reports the type mismatch.
/// </summary>
public sealed class DxlSessionTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case null:
            case DxlSession:
                return inputData;
            case string name:
                return SessionRegistry.Current.FindByName(name)
                    ?? throw new ArgumentTransformationMetadataException(
                        $"No open DXL session is named '{name}'. Get-DxlSession lists the open sessions.");
            case int id:
                return SessionRegistry.Current.Snapshot().FirstOrDefault(s => s.Id == id)
                    ?? throw new ArgumentTransformationMetadataException(
                        $"No open DXL session has the id {id}. Get-DxlSession lists the open sessions.");
            case object[] many:
                return many.Select(o => Transform(engineIntrinsics, o)).ToArray();
            default:
                return inputData;
        }
    }
}
