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
    public const string SendFailed = "TieSendFailed";
    public const string VerifyFailed = "TieVerifyFailed";

    public static ErrorRecord FromException(Exception ex, object? target) => ex switch
    {
        TieNotFoundException e => DxlErrors.Create(ReputationNotFound, ErrorCategory.ObjectNotFound, target, $"{Name(target)}: {e.Message}", e),
        TieServiceUnavailableException e => DxlErrors.Create(ServiceUnavailable, ErrorCategory.ResourceUnavailable, target, $"{Name(target)}: {e.Message}", e,
            "Check that a TIE server is connected to this fabric (Test-DxlFabric)."),
        TieTimeoutException e => DxlErrors.Create(RequestTimeout, ErrorCategory.OperationTimeout, target, $"{Name(target)}: {e.Message}", e,
            "Raise -TimeoutSec or lower -ThrottleLimit; run Test-DxlFabric to check topic authorisation."),
        TieMalformedResponseException e => DxlErrors.Create(MalformedResponse, ErrorCategory.InvalidResult, target, $"{Name(target)}: {e.Message}", e),
        TieServiceErrorException e => DxlErrors.Create(ServiceError, ErrorCategory.InvalidResult, target, $"{Name(target)}: {e.Message}", e),
        TieConnectionException e => DxlErrors.Create(ConnectionLost, ErrorCategory.ConnectionError, target, $"{Name(target)}: {e.Message}", e,
            "The session reconnects by itself; run the command again for the failed items."),
        TieHashFormatException e => DxlErrors.Create(Pipeline.TieFileInputResolver.InvalidHash, ErrorCategory.InvalidArgument, target, $"{Name(target)}: {e.Message}", e),
        ArgumentException e => DxlErrors.Create(InvalidArgument, ErrorCategory.InvalidArgument, target, $"{Name(target)}: {e.Message}", e),
        UnauthorizedAccessException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileUnreadable, ErrorCategory.PermissionDenied, target, $"{Name(target)}: cannot read the file: {e.Message}", e),
        FileNotFoundException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileNotFound, ErrorCategory.ObjectNotFound, target, $"{Name(target)}: {e.Message}", e),
        IOException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileUnreadable, ErrorCategory.ReadError, target, $"{Name(target)}: cannot read the file: {e.Message}", e),
        CryptographicException e => DxlErrors.Create(Pipeline.TieFileInputResolver.FileUnreadable, ErrorCategory.ReadError, target, $"{Name(target)}: {e.Message}", e),
        _ => DxlErrors.FromException(ex, target),
    };

    public static ErrorRecord FromProblem(Pipeline.TieInputProblem problem, object target) =>
        DxlErrors.Create(problem.ErrorId, problem.Category, target, problem.Message, problem.Exception);

    private static string Name(object? target) => target switch
    {
        Pipeline.TieFileInput input => input.Describe(),
        null => "(input)",
        _ => target.ToString() ?? "(input)",
    };
}
