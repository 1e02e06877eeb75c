using System.Management.Automation;
using System.Security.Cryptography;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>Error records for the TIE cmdlets: ids name the problem, categories fit, the item is the target.</summary>
internal static class TieErrors
{
    public const string ReputationNotFound = "TieReputationNotFound";
    public const string ServiceUnavailable = "TieServiceUnavailable";
    public const string RequestTimeout = "TieRequestTimeout";
    public const string MalformedResponse = "TieMalformedResponse";
    public const string ServiceError = "TieServiceError";
    public const string ConnectionLost = "TieConnectionLost";
    public const string InvalidArgument = "TieInvalidArgument";
    public const string VerifyFailed = "TieVerifyFailed";

    /// <summary>
    /// An error record for one failed item. The record's TargetObject is what the user passed in (so failed items
    /// can be piped again); the message names the item by its hash and file name.
    /// </summary>
    public static ErrorRecord FromException(Exception ex, object? item)
    {
        var (target, name) = item switch
        {
            Pipeline.TieFileInput input => (input.Target, input.Describe()),
            TieCertificateInput certificate => (certificate.Target, certificate.ToString()),
            null => ((object?)null, "(input)"),
            _ => (item, item.ToString() ?? "(input)"),
        };
        return Map(ex, target, name);
    }

    private static ErrorRecord Map(Exception ex, object? target, string name) => ex switch
    {
        TieNotFoundException e => DxlErrors.Create(ReputationNotFound, ErrorCategory.ObjectNotFound, target, $"{name}: {e.Message}", e),
        TieServiceUnavailableException e => DxlErrors.Create(ServiceUnavailable, ErrorCategory.ResourceUnavailable, target, $"{name}: {e.Message}", e,
            "Check that a TIE server is connected to this fabric (Test-DxlFabric)."),
        TieTimeoutException e => DxlErrors.Create(RequestTimeout, ErrorCategory.OperationTimeout, target, $"{name}: {e.Message}", e,
            "Raise -TimeoutSec or lower -ThrottleLimit; run Test-DxlFabric to check topic authorisation."),
        TieMalformedResponseException e => DxlErrors.Create(MalformedResponse, ErrorCategory.InvalidResult, target, $"{name}: {e.Message}", e),
        TieServiceErrorException e => DxlErrors.Create(ServiceError, ErrorCategory.InvalidResult, target, $"{name}: {e.Message}", e),
        TieConnectionException e => DxlErrors.Create(ConnectionLost, ErrorCategory.ConnectionError, target, $"{name}: {e.Message}", e,
            "The session reconnects by itself; run the command again for the failed items."),
        TieHashFormatException e => DxlErrors.Create(Pipeline.TieFileInputResolver.InvalidHash, ErrorCategory.InvalidArgument, target, $"{name}: {e.Message}", e),
        ArgumentException e => DxlErrors.Create(InvalidArgument, ErrorCategory.InvalidArgument, target, $"{name}: {e.Message}", e),
        UnauthorizedAccessException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileUnreadable, ErrorCategory.PermissionDenied, target, $"{name}: cannot read the file: {e.Message}", e),
        FileNotFoundException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileNotFound, ErrorCategory.ObjectNotFound, target, $"{name}: {e.Message}", e),
        IOException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileUnreadable, ErrorCategory.ReadError, target, $"{name}: cannot read the file: {e.Message}", e),
        CryptographicException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileUnreadable, ErrorCategory.ReadError, target, $"{name}: {e.Message}", e),
        _ => DxlErrors.FromException(ex, target),
    };

    public static ErrorRecord FromProblem(Pipeline.TieInputProblem problem, object target) =>
        DxlErrors.Create(problem.ErrorId, problem.Category, target, problem.Message, problem.Exception);

}
