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
    public const string SubscriptionRefused = "DxlSubscriptionRefused";
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
    public const string FileChangedSinceHashed = "FileChangedSinceHashed";
    public const string InvalidJournal = "InvalidJournal";
    public const string JournalWriteFailed = "JournalWriteFailed";

    // The state file of Get-TieReputationChange -StatePath.
    public const string ChangeStateFileInvalid = "ChangeStateFileInvalid";
    public const string ChangeStateFileUnwritable = "ChangeStateFileUnwritable";

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

    /// <summary>One kind of failure as the user sees it: error id, category and advice, each written once below.</summary>
    private sealed record Kind(string Id, ErrorCategory Category, string? Advice = null);

    // What TIE answered, or did not (TieErrorKind: the TIE client classified the wire failure once).
    private static readonly Kind TieNotVerified = new(VerifyFailed, ErrorCategory.OperationTimeout);
    private static readonly Kind TieNotFound = new(ReputationNotFound, ErrorCategory.ObjectNotFound);
    private static readonly Kind TieNoService = new(TieServiceUnavailable, ErrorCategory.ResourceUnavailable,
        "Check that a TIE server is connected to this fabric (Test-DxlFabric).");
    private static readonly Kind TieTimeout = new(TieRequestTimeout, ErrorCategory.OperationTimeout,
        "Raise -TimeoutSec or lower -ThrottleLimit; run Test-DxlFabric to check topic authorisation.");
    private static readonly Kind TieMalformed = new(MalformedResponse, ErrorCategory.InvalidResult);
    private static readonly Kind TieAnsweredError = new(TieServiceError, ErrorCategory.InvalidResult);
    private static readonly Kind TieConnection = new(ConnectionLost, ErrorCategory.ConnectionError,
        "The session reconnects by itself; run the command again for the failed items.");

    // One input item.
    private static readonly Kind BadHash = new(InvalidHash, ErrorCategory.InvalidArgument);
    private static readonly Kind UnreadableFile = new(FileUnreadable, ErrorCategory.PermissionDenied);
    private static readonly Kind MissingFile = new(FileNotFound, ErrorCategory.ObjectNotFound);
    private static readonly Kind BrokenFile = new(FileUnreadable, ErrorCategory.ReadError);
    private static readonly Kind BadArgument = new(TieInvalidArgument, ErrorCategory.InvalidArgument);
    private static readonly Kind ChangedFile = new(FileChangedSinceHashed, ErrorCategory.InvalidData);
    private static readonly Kind NotAJournal = new(InvalidJournal, ErrorCategory.InvalidData,
        "Give a journal written by -JournalPath of a Set-Tie*Reputation or Undo-TieReputation command.");
    private static readonly Kind JournalUnwritable = new(JournalWriteFailed, ErrorCategory.WriteError,
        "Check the journal's folder, free space and permissions; the item's change may have been sent without its journal line.");

    // The fabric, as the DXL client saw it.
    private static readonly Kind Tls = new(TlsRejected, ErrorCategory.SecurityError,
        "Check the broker CA bundle (BrokerCertChain), the client certificate and key, their validity dates, and that the broker trusts the client's CA.");
    private static readonly Kind ConfigMissing = new(ConfigFileNotFound, ErrorCategory.ObjectNotFound);
    private static readonly Kind ConfigBad = new(ConfigInvalid, ErrorCategory.InvalidArgument);
    private static readonly Kind DxlTimeout = new(RequestTimeout, ErrorCategory.OperationTimeout,
        "Raise -TimeoutSec, check that the service is up, and that this client is authorised to send on the topic.");
    private static readonly Kind DxlNoService = new(ServiceNotFound, ErrorCategory.ResourceUnavailable,
        "Check that the service (e.g. the TIE server) is registered on this fabric and the topic is right.");
    private static readonly Kind DxlBusy = new(ServiceBusy, ErrorCategory.ResourceBusy);
    private static readonly Kind DxlRefused = new(SubscriptionRefused, ErrorCategory.PermissionDenied,
        "Authorise this client to receive events on the topic (ePO: Server Settings > DXL Topic Authorization).");
    private static readonly Kind DxlAnswerTimeout = new(RequestTimeout, ErrorCategory.OperationTimeout);
    private static readonly Kind DxlAnsweredError = new(ErrorResponse, ErrorCategory.InvalidResult);
    private static readonly Kind TooLarge = new(PayloadTooLarge, ErrorCategory.LimitsExceeded);
    private static readonly Kind BadEnvelope = new(InvalidMessage, ErrorCategory.InvalidData);
    private static readonly Kind DxlConnection = new(ConnectionFailed, ErrorCategory.ConnectionError);
    private static readonly Kind DxlOther = new(DxlError, ErrorCategory.NotSpecified);

    // Provisioning.
    private static readonly Kind EpoAuthentication = new(EpoAuthenticationFailed, ErrorCategory.AuthenticationError);
    private static readonly Kind EpoPermission = new(EpoPermissionDenied, ErrorCategory.PermissionDenied,
        "Give the ePO user the \"DXL Client Management\" permission set, or use an administrator.");
    private static readonly Kind EpoDown = new(EpoUnreachable, ErrorCategory.ConnectionError,
        "Check the host name and port (ePO's default is 8443), the firewall and HTTPS_PROXY.");
    private static readonly Kind EpoTls = new(EpoTlsRejected, ErrorCategory.SecurityError,
        "Pass the CA certificate that issued ePO's certificate with -EpoCaPath (or, knowing the risk, -SkipCertificateCheck).");
    private static readonly Kind EpoNot = new(EpoNotEpo, ErrorCategory.InvalidResult);
    private static readonly Kind EpoCommand = new(EpoCommandFailed, ErrorCategory.InvalidResult);
    private static readonly Kind EpoAnswer = new(EpoInvalidAnswer, ErrorCategory.InvalidData);
    private static readonly Kind Provisioning = new(ProvisioningRefused, ErrorCategory.InvalidOperation);

    // Anything else.
    private static readonly Kind Timeout = new(OperationTimeout, ErrorCategory.OperationTimeout);
    private static readonly Kind Other = new(Unexpected, ErrorCategory.NotSpecified);

    /// <summary>
    /// Maps any exception to an error record. <paramref name="itemName"/>, when given, names the item the error is
    /// about at the start of the message (TIE failures of one file or certificate).
    /// </summary>
    public static ErrorRecord FromException(Exception ex, object? target, string? itemName)
    {
        ex = Unwrap(ex);
        var (kind, message, about) = Classify(ex, target, itemName is not null);
        return Create(kind.Id, kind.Category, about, itemName is null ? message : $"{itemName}: {message}", ex, kind.Advice);
    }

    /// <summary>The kind of a failure, its message, and what it is about (the target, or what the exception names).</summary>
    private static (Kind Kind, string Message, object? Target) Classify(Exception ex, object? target, bool aboutItem) => ex switch
    {
        TieException e => (OfTie(e.Kind), e.Message, target),
        TieHashFormatException e => (BadHash, aboutItem ? e.Message : $"'{e.Value}' is not a valid {e.HashType?.ToString().ToUpperInvariant() ?? "hash"}: {e.Reason}", target),
        UnauthorizedAccessException e when aboutItem => (UnreadableFile, $"cannot read the file: {e.Message}", target),
        FileNotFoundException e when aboutItem => (MissingFile, e.Message, target),
        CryptographicException e when aboutItem => (BrokenFile, e.Message, target),
        TieFileChangedException e => (ChangedFile, e.Message, target),

        DxlTlsException e => (Tls, e.Message, target),
        DxlConfigException e => (IsMissingFile(e) ? ConfigMissing : ConfigBad, e.Message, e.File ?? target),
        DxlTimeoutException e => (DxlTimeout, e.Message, target ?? e.Topic),
        DxlErrorResponseException { IsServiceNotFound: true } e => (DxlNoService, e.Message, target ?? e.Topic),
        DxlErrorResponseException { Code: DxlErrorCodes.ServiceOverloaded } e => (DxlBusy, e.Message, target ?? e.Topic),
        DxlErrorResponseException { Code: DxlErrorCodes.ResponseTimeout } e => (DxlAnswerTimeout, e.Message, target ?? e.Topic),
        DxlErrorResponseException e => (DxlAnsweredError, e.Message, target ?? e.Topic),
        DxlPayloadTooLargeException e => (TooLarge, e.Message, target),
        DxlSubscriptionRefusedException e => (DxlRefused, e.Message, target ?? string.Join(", ", e.Topics)),
        DxlEnvelopeException e => (BadEnvelope, e.Message, target),
        DxlConnectionException e => (DxlConnection, e.Message, target),
        EpoAuthenticationException e => (EpoAuthentication, e.Message, target),
        EpoPermissionException e => (EpoPermission, e.Message, target),
        EpoUnreachableException e => (EpoDown, e.Message, target),
        EpoTlsException e => (EpoTls, e.Message, target),
        EpoNotEpoException e => (EpoNot, e.Message, target),
        EpoCommandException e => (EpoCommand, e.Message, target),
        EpoAnswerException e => (EpoAnswer, e.Message, target),
        DxlProvisioningException e => (Provisioning, e.Message, target),
        DxlException e => (DxlOther, e.Message, target),
        TimeoutException e => (Timeout, e.Message, target),
        ArgumentException e when aboutItem => (BadArgument, e.Message, target),
        IOException e when aboutItem => (BrokenFile, $"cannot read the file: {e.Message}", target),
        TieJournalException e => (e.IsWriteFailure ? JournalUnwritable : NotAJournal, e.Message, target ?? e.Path),
        _ => (Other, $"{ex.GetType().Name}: {ex.Message}", target),
    };

    /// <summary>What the user sees of each kind of TIE failure.</summary>
    private static Kind OfTie(TieErrorKind kind) => kind switch
    {
        TieErrorKind.NotVerified => TieNotVerified,
        TieErrorKind.NotFound => TieNotFound,
        TieErrorKind.ServiceUnavailable => TieNoService,
        TieErrorKind.Timeout => TieTimeout,
        TieErrorKind.MalformedResponse => TieMalformed,
        TieErrorKind.Connection => TieConnection,
        _ => TieAnsweredError,
    };

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
