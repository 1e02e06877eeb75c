using TieDxl.Dxl;
namespace TieDxl.Tie;

/// <summary>What went wrong with a TIE call.</summary>
public enum TieErrorKind
{
    /// <summary>The service answered "Could not find reputation" (error code 0).</summary>
    NotFound,
    /// <summary>No TIE service is registered on the fabric (0x80000001).</summary>
    ServiceUnavailable,
    /// <summary>No answer in time; often missing topic authorisation.</summary>
    Timeout,
    /// <summary>The reply was not the JSON shape TIE sends.</summary>
    MalformedResponse,
    /// <summary>Any other error response of the service or the broker.</summary>
    ServiceError,
    /// <summary>The DXL connection was lost or is not up.</summary>
    Connection,
    /// <summary>A change was sent but TIE did not show it within the time allowed.</summary>
    NotVerified,
}

/// <summary>Base of the errors a <see cref="TieClient"/> raises for a failed call (arguments and cancellation aside).</summary>
public abstract class TieException : Exception
{
    private protected TieException(string message, string? topic, Exception? inner) : base(message, inner)
    {
        Topic = topic;
    }

    public abstract TieErrorKind Kind { get; }

    /// <summary>The request topic of the failed call.</summary>
    public string? Topic { get; }
}

/// <summary>The service has no reputation for the item ("Could not find reputation", code 0).</summary>
public sealed class TieNotFoundException : TieException
{
    public TieNotFoundException(string topic, string serviceMessage, Exception? inner = null)
        : base($"TIE could not find a reputation ({serviceMessage}).", topic, inner)
    {
        ServiceMessage = serviceMessage;
    }

    public override TieErrorKind Kind => TieErrorKind.NotFound;
    public string ServiceMessage { get; }
}

/// <summary>No TIE service is registered on the fabric for the topic (fabric error 0x80000001).</summary>
public sealed class TieServiceUnavailableException : TieException
{
    public TieServiceUnavailableException(string topic, Exception? inner = null)
        : base($"The TIE service is not available: no service is registered on the DXL fabric for '{topic}'. " +
               "Check that the TIE server is running and connected to this broker's fabric.", topic, inner)
    {
    }

    public override TieErrorKind Kind => TieErrorKind.ServiceUnavailable;
}

/// <summary>No reply within the timeout.</summary>
public sealed class TieTimeoutException : TieException
{
    public TieTimeoutException(string topic, TimeSpan timeout, Exception? inner = null)
        : base($"TIE did not answer on '{topic}' within {timeout.TotalSeconds:0.###} s. " + Hint(topic), topic, inner)
    {
        Timeout = timeout;
    }

    public override TieErrorKind Kind => TieErrorKind.Timeout;
    public TimeSpan Timeout { get; }

    private static string Hint(string topic) => topic switch
    {
        TieTopics.FileReputationSet or TieTopics.CertReputationSet =>
            "A request that never gets an answer usually means this client's certificate is not authorised to send on the " +
            "topic: add it to the ePO DXL Topic Authorization group 'TIE Server Set Enterprise Reputation'. The server may also be overloaded.",
        _ =>
            "A request that never gets an answer usually means this client is not authorised to send on the topic " +
            "(ePO DXL Topic Authorization), or the TIE server is overloaded or hung.",
    };
}

/// <summary>The reply was not valid JSON or not the expected shape.</summary>
public sealed class TieMalformedResponseException : TieException
{
    public TieMalformedResponseException(string topic, string problem, string? payload, Exception? inner = null)
        : base($"The reply on '{topic}' is malformed: {problem}", topic, inner)
    {
        Problem = problem;
        Payload = payload;
    }

    public override TieErrorKind Kind => TieErrorKind.MalformedResponse;
    public string Problem { get; }

    /// <summary>The reply text (shortened to 4 KiB).</summary>
    public string? Payload { get; }
}

/// <summary>An error response other than "not found" and "no service".</summary>
public sealed class TieServiceErrorException : TieException
{
    public TieServiceErrorException(string topic, uint code, string serviceMessage, Exception? inner = null)
        : base(code >= 0x80000000u
                ? $"The DXL fabric answered '{topic}' with error 0x{code:X8}: {serviceMessage}"
                : $"TIE answered '{topic}' with error {code}: {serviceMessage}", topic, inner)
    {
        Code = code;
        ServiceMessage = serviceMessage;
    }

    public override TieErrorKind Kind => TieErrorKind.ServiceError;

    /// <summary>The error code (fabric codes have bit 31 set).</summary>
    public uint Code { get; }
    public string ServiceMessage { get; }
    public bool IsServiceOverloaded => Code == TieDxl.Dxl.Messages.DxlErrorCodes.ServiceOverloaded;
}

/// <summary>The DXL connection failed during the call.</summary>
public sealed class TieConnectionException : TieException
{
    public TieConnectionException(string topic, Exception inner)
        : base($"The DXL connection failed during the call on '{topic}': {inner.Message}", topic, inner)
    {
    }

    public override TieErrorKind Kind => TieErrorKind.Connection;

    /// <summary>When the fabric became unreachable, if the call failed because it stayed unreachable for the whole timeout.</summary>
    public DateTimeOffset? UnreachableSince => (InnerException as DxlFabricUnreachableException)?.UnreachableSince;

    /// <summary>The brokers tried meanwhile (empty unless the fabric stayed unreachable).</summary>
    public IReadOnlyList<string> BrokersTried => (InnerException as DxlFabricUnreachableException)?.BrokersTried ?? Array.Empty<string>();
}
