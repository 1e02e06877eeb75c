using System.Diagnostics.CodeAnalysis;
using System.Management.Automation;
using System.Security.Cryptography;
using TieDxl.Dxl;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Provisioning;
using TieDxl.Tie;

namespace TieDxl.Errors;

/// <summary>
/// Every error id of the module, and the one mapping from exceptions to error records.
/// <para>Naming rule: an id names the problem in PascalCase. Problems of the fabric, a session, a configuration or
/// the test fabric start with <c>Dxl</c>; problems in what the TIE service answered (or did not) start with
/// <c>Tie</c>; problems of one input item (a hash, a file, an object in the pipeline) have no prefix. PowerShell
/// appends the cmdlet class to form the FullyQualifiedErrorId.</para>
/// <para>Records always carry a target (the item as the user gave it, so failed items can be piped again), a
/// category that fits, ErrorDetails with a clean message, and the original exception, so that
/// <c>catch [TieDxl.Dxl.DxlTimeoutException]</c> works in scripts.</para>
/// </summary>
internal static class ErrorCatalog
{
    // Fabric, sessions, configuration.
    public const string NotConnected = "DxlNotConnected";
    public const string ConfigNotSpecified = "DxlConfigNotSpecified";
    public const string ConfigFileNotFound = "DxlConfigFileNotFound";
    public const string ConfigInvalid = "DxlConfigInvalid";
    public const string CertificateFileNotFound = "DxlCertificateFileNotFound";
    public const string CertificateWithoutKey = "DxlCertificateWithoutKey";
    public const string InvalidBroker = "DxlInvalidBroker";
    public const string SessionNameInUse = "DxlSessionNameInUse";
    public const string SessionNotFound = "DxlSessionNotFound";
    public const string TlsRejected = "DxlTlsRejected";
    public const string ConnectionFailed = "DxlConnectionFailed";
    public const string ConnectTimeout = "DxlConnectTimeout";
    public const string RequestTimeout = "DxlRequestTimeout";
    public const string OperationTimeout = "DxlOperationTimeout";
    public const string ServiceNotFound = "DxlServiceNotFound";
    public const string ServiceBusy = "DxlServiceBusy";
    public const string ErrorResponse = "DxlErrorResponse";
    public const string PayloadTooLarge = "DxlPayloadTooLarge";
    public const string InvalidMessage = "DxlInvalidMessage";
    public const string InvalidPayload = "DxlInvalidPayload";
    public const string InvalidJson = "DxlInvalidJson";
    public const string DxlError = "DxlError";
    public const string Unexpected = "DxlUnexpectedError";
    public const string TestFabricRunning = "DxlTestFabricRunning";
    public const string SeedWithoutSimulator = "DxlSeedWithoutSimulator";
    public const string SeedFileNotFound = "DxlSeedFileNotFound";

    // Provisioning: ePO and the files it leads to.
    public const string EpoAuthenticationFailed = "EpoAuthenticationFailed";
    public const string EpoPermissionDenied = "EpoPermissionDenied";
    public const string EpoUnreachable = "EpoUnreachable";
    public const string EpoTlsRejected = "EpoTlsRejected";
    public const string EpoNotEpo = "EpoNotEpo";
    public const string EpoCommandFailed = "EpoCommandFailed";
    public const string EpoInvalidAnswer = "EpoInvalidAnswer";
    public const string ProvisioningRefused = "DxlProvisioningRefused";

    // What TIE answered.
    public const string ReputationNotFound = "TieReputationNotFound";
    public const string TieServiceUnavailable = "TieServiceUnavailable";
    public const string TieRequestTimeout = "TieRequestTimeout";
    public const string MalformedResponse = "TieMalformedResponse";
    public const string TieServiceError = "TieServiceError";
    public const string ConnectionLost = "TieConnectionLost";
    public const string TieInvalidArgument = "TieInvalidArgument";
    public const string VerifyFailed = "TieVerifyFailed";

    // One input item.
    public const string InvalidHash = "InvalidHash";
    public const string UnsupportedAlgorithm = "UnsupportedAlgorithm";
    public const string InvalidInput = "InvalidInput";
    public const string FileNotFound = "FileNotFound";
    public const string PathIsDirectory = "PathIsDirectory";
    public const string FileUnreadable = "FileUnreadable";

    /// <summary>
    /// An error record. <paramref name="exception"/> becomes the record's exception as is; without one a
    /// <see cref="DxlCmdletException"/> carrying <paramref name="message"/> is made. The message shown is
    /// always <paramref name="message"/> (ErrorDetails).
    /// </summary>
    public static ErrorRecord Create(string errorId, ErrorCategory category, object? target, string message,
        Exception? exception = null, string? recommendedAction = null)
    {
        var record = new ErrorRecord(exception ?? new DxlCmdletException(message), errorId, category, target ?? "")
        {
            ErrorDetails = new ErrorDetails(message),
        };
        if (!string.IsNullOrEmpty(recommendedAction)) record.ErrorDetails.RecommendedAction = recommendedAction;
        return record;
    }

    /// <summary>
    /// Maps any exception to an error record. <paramref name="itemName"/>, when given, names the item the error is
    /// about at the start of the message (TIE failures of one file or certificate).
    /// </summary>
    public static ErrorRecord FromException(Exception ex, object? target, string? itemName)
    {
        ex = Unwrap(ex);
        string Named(string message) => itemName is null ? message : $"{itemName}: {message}";
        return ex switch
        {
            TieVerificationException e => Create(VerifyFailed, ErrorCategory.OperationTimeout, target, Named(e.Message), e),
            TieNotFoundException e => Create(ReputationNotFound, ErrorCategory.ObjectNotFound, target, Named(e.Message), e),
            TieServiceUnavailableException e => Create(TieServiceUnavailable, ErrorCategory.ResourceUnavailable, target, Named(e.Message), e,
                "Check that a TIE server is connected to this fabric (Test-DxlFabric)."),
            TieTimeoutException e => Create(TieRequestTimeout, ErrorCategory.OperationTimeout, target, Named(e.Message), e,
                "Raise -TimeoutSec or lower -ThrottleLimit; run Test-DxlFabric to check topic authorisation."),
            TieMalformedResponseException e => Create(MalformedResponse, ErrorCategory.InvalidResult, target, Named(e.Message), e),
            TieServiceErrorException e => Create(TieServiceError, ErrorCategory.InvalidResult, target, Named(e.Message), e),
            TieConnectionException e => Create(ConnectionLost, ErrorCategory.ConnectionError, target, Named(e.Message), e,
                "The session reconnects by itself; run the command again for the failed items."),
            TieHashFormatException e => Create(InvalidHash, ErrorCategory.InvalidArgument, target,
                itemName is null ? $"'{e.Value}' is not a valid {e.HashType?.ToString().ToUpperInvariant() ?? "hash"}: {e.Reason}" : Named(e.Message), e),
            UnauthorizedAccessException e when itemName is not null => Create(FileUnreadable, ErrorCategory.PermissionDenied, target, Named($"cannot read the file: {e.Message}"), e),
            FileNotFoundException e when itemName is not null => Create(FileNotFound, ErrorCategory.ObjectNotFound, target, Named(e.Message), e),
            CryptographicException e when itemName is not null => Create(FileUnreadable, ErrorCategory.ReadError, target, Named(e.Message), e),

            DxlTlsException e => Create(TlsRejected, ErrorCategory.SecurityError, target, Named(e.Message), e,
                "Check the broker CA bundle (BrokerCertChain), the client certificate and key, their validity dates, and that the broker trusts the client's CA."),
            DxlConfigException e => Create(IsMissingFile(e) ? ConfigFileNotFound : ConfigInvalid,
                IsMissingFile(e) ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidArgument,
                e.File ?? target, Named(e.Message), e),
            DxlTimeoutException e => Create(RequestTimeout, ErrorCategory.OperationTimeout, target ?? e.Topic, Named(e.Message), e,
                "Raise -TimeoutSec, check that the service is up, and that this client is authorised to send on the topic."),
            DxlErrorResponseException { IsServiceNotFound: true } e => Create(ServiceNotFound, ErrorCategory.ResourceUnavailable,
                target ?? e.Topic, Named(e.Message), e, "Check that the service (e.g. the TIE server) is registered on this fabric and the topic is right."),
            DxlErrorResponseException { Code: DxlErrorCodes.ServiceOverloaded } e => Create(ServiceBusy, ErrorCategory.ResourceBusy,
                target ?? e.Topic, Named(e.Message), e),
            DxlErrorResponseException { Code: DxlErrorCodes.ResponseTimeout } e => Create(RequestTimeout, ErrorCategory.OperationTimeout,
                target ?? e.Topic, Named(e.Message), e),
            DxlErrorResponseException e => Create(ErrorResponse, ErrorCategory.InvalidResult, target ?? e.Topic, Named(e.Message), e),
            DxlPayloadTooLargeException e => Create(PayloadTooLarge, ErrorCategory.LimitsExceeded, target, Named(e.Message), e),
            DxlEnvelopeException e => Create(InvalidMessage, ErrorCategory.InvalidData, target, Named(e.Message), e),
            DxlConnectionException e => Create(ConnectionFailed, ErrorCategory.ConnectionError, target, Named(e.Message), e),
            EpoAuthenticationException e => Create(EpoAuthenticationFailed, ErrorCategory.AuthenticationError, target, Named(e.Message), e),
            EpoPermissionException e => Create(EpoPermissionDenied, ErrorCategory.PermissionDenied, target, Named(e.Message), e,
                "Give the ePO user the \"DXL Client Management\" permission set, or use an administrator."),
            EpoUnreachableException e => Create(EpoUnreachable, ErrorCategory.ConnectionError, target, Named(e.Message), e,
                "Check the host name and port (ePO's default is 8443), the firewall and HTTPS_PROXY."),
            EpoTlsException e => Create(EpoTlsRejected, ErrorCategory.SecurityError, target, Named(e.Message), e,
                "Pass the CA certificate that issued ePO's certificate with -EpoCaPath (or, knowing the risk, -SkipCertificateCheck)."),
            EpoNotEpoException e => Create(EpoNotEpo, ErrorCategory.InvalidResult, target, Named(e.Message), e),
            EpoCommandException e => Create(EpoCommandFailed, ErrorCategory.InvalidResult, target, Named(e.Message), e),
            EpoAnswerException e => Create(EpoInvalidAnswer, ErrorCategory.InvalidData, target, Named(e.Message), e),
            DxlProvisioningException e => Create(ProvisioningRefused, ErrorCategory.InvalidOperation, target, Named(e.Message), e),
            DxlException e => Create(DxlError, ErrorCategory.NotSpecified, target, Named(e.Message), e),
            TimeoutException e => Create(OperationTimeout, ErrorCategory.OperationTimeout, target, Named(e.Message), e),
            ArgumentException e when itemName is not null => Create(TieInvalidArgument, ErrorCategory.InvalidArgument, target, Named(e.Message), e),
            IOException e when itemName is not null => Create(FileUnreadable, ErrorCategory.ReadError, target, Named($"cannot read the file: {e.Message}"), e),
            _ => Create(Unexpected, ErrorCategory.NotSpecified, target, Named($"{ex.GetType().Name}: {ex.Message}"), ex),
        };
    }

    /// <summary>Maps an exception that is about the command, not one item.</summary>
    public static ErrorRecord FromException(Exception ex, object? target) => FromException(ex, target, null);

    /// <summary>Connection-level failures end the whole command (every further item would fail the same way); per-item failures do not.</summary>
    public static bool IsTerminating(Exception ex) => Unwrap(ex) is DxlConnectionException or DxlConfigException;

    /// <summary>Stops the command: for the throw helpers, so the compiler knows they do not return.</summary>
    [DoesNotReturn]
    public static Exception Throw(PSCmdlet cmdlet, ErrorRecord record)
    {
        cmdlet.ThrowTerminatingError(record);
        throw new System.Diagnostics.UnreachableException("ThrowTerminatingError returned.");
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        return ex;
    }

    private static bool IsMissingFile(DxlConfigException e) =>
        e.InnerException is FileNotFoundException or DirectoryNotFoundException
        || (e.File is { Length: > 0 } f && !File.Exists(f) && !Directory.Exists(f));
}
