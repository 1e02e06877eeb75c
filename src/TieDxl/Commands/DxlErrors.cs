using System.Management.Automation;
using TieDxl.Dxl;
using TieDxl.Dxl.Messages;

namespace TieDxl.Commands;

/// <summary>
/// Builds the module's error records: id <c>&lt;Problem&gt;</c> (PowerShell appends the cmdlet class), a
/// category that fits, a target object always, ErrorDetails with a clean message, the exception kept.
/// </summary>
internal static class DxlErrors
{
    // Error ids used by the foundation. TIE cmdlets add their own in the same style.
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

    /// <summary>
    /// An error record. <paramref name="exception"/> becomes the record's exception as is, so that
    /// <c>catch [TieDxl.Dxl.DxlTimeoutException]</c> works in scripts; without one a
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

    /// <summary>Maps an exception from the DXL layer (or anything else) to an error record.</summary>
    public static ErrorRecord FromException(Exception ex, object? target)
    {
        ex = Unwrap(ex);
        return ex switch
        {
            DxlTlsException e => Create(TlsRejected, ErrorCategory.SecurityError, target, e.Message, e,
                "Check the broker CA bundle (BrokerCertChain), the client certificate and key, their validity dates, and that the broker trusts the client's CA."),
            DxlConfigException e => Create(IsMissingFile(e) ? ConfigFileNotFound : ConfigInvalid,
                IsMissingFile(e) ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidArgument,
                e.File ?? target, e.Message, e),
            DxlTimeoutException e => Create(RequestTimeout, ErrorCategory.OperationTimeout, target ?? e.Topic, e.Message, e,
                "Raise -TimeoutSec, check that the service is up, and that this client is authorised to send on the topic."),
            DxlErrorResponseException { IsServiceNotFound: true } e => Create(ServiceNotFound, ErrorCategory.ResourceUnavailable,
                target ?? e.Topic, e.Message, e, "Check that the service (e.g. the TIE server) is registered on this fabric and the topic is right."),
            DxlErrorResponseException { Code: DxlErrorCodes.ServiceOverloaded } e => Create(ServiceBusy, ErrorCategory.ResourceBusy,
                target ?? e.Topic, e.Message, e),
            DxlErrorResponseException { Code: DxlErrorCodes.ResponseTimeout } e => Create(RequestTimeout, ErrorCategory.OperationTimeout,
                target ?? e.Topic, e.Message, e),
            DxlErrorResponseException e => Create(ErrorResponse, ErrorCategory.InvalidResult, target ?? e.Topic, e.Message, e),
            DxlPayloadTooLargeException e => Create(PayloadTooLarge, ErrorCategory.LimitsExceeded, target, e.Message, e),
            DxlEnvelopeException e => Create(InvalidMessage, ErrorCategory.InvalidData, target, e.Message, e),
            DxlConnectionException e => Create(ConnectionFailed, ErrorCategory.ConnectionError, target, e.Message, e),
            DxlException e => Create(DxlError, ErrorCategory.NotSpecified, target, e.Message, e),
            TimeoutException e => Create(OperationTimeout, ErrorCategory.OperationTimeout, target, e.Message, e),
            NotImplementedException e => Create(Unexpected, ErrorCategory.NotImplemented, target,
                "This part of the DXL client is not implemented yet: " + (e.TargetSite?.DeclaringType?.Name + "." + e.TargetSite?.Name), e),
            _ => Create(Unexpected, ErrorCategory.NotSpecified, target, $"{ex.GetType().Name}: {ex.Message}", ex),
        };
    }

    /// <summary>Connection-level failures end the whole command; per-item failures do not.</summary>
    public static bool IsTerminating(Exception ex) => Unwrap(ex) is DxlConnectionException or DxlConfigException;

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        return ex;
    }

    private static bool IsMissingFile(DxlConfigException e) =>
        e.InnerException is FileNotFoundException or DirectoryNotFoundException
        || (e.File is { Length: > 0 } f && !File.Exists(f) && !Directory.Exists(f));
}

/// <summary>The exception inside the module's error records: its message is the record's message.</summary>
public sealed class DxlCmdletException : Exception
{
    public DxlCmdletException(string message) : base(message) { }
    public DxlCmdletException(string message, Exception inner) : base(message, inner) { }
}
