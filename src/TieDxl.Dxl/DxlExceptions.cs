using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl;

/// <summary>Base of every error the DXL client raises on purpose.</summary>
public class DxlException : Exception
{
    public DxlException(string message) : base(message) { }
    public DxlException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>Malformed envelope bytes. The only exception the decoder lets escape.</summary>
public sealed class DxlEnvelopeException : DxlException
{
    public DxlEnvelopeException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A configuration problem, naming the file, line or setting at fault.</summary>
public sealed class DxlConfigException(string message, string? file = null, int? line = null, string? setting = null, Exception? inner = null)
    : DxlException(Compose(message, file, line, setting), inner)
{
    public string? File { get; } = file;
    public int? Line { get; } = line;
    public string? Setting { get; } = setting;

    private static string Compose(string message, string? file, int? line, string? setting)
    {
        var where = new List<string>();
        if (file is not null) where.Add(line is null ? file : $"{file}:{line}");
        if (setting is not null) where.Add($"setting '{setting}'");
        return where.Count == 0 ? message : $"{string.Join(", ", where)}: {message}";
    }
}

/// <summary>Could not connect, or the connection was lost while an operation was pending.</summary>
public class DxlConnectionException : DxlException
{
    public DxlConnectionException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// The broker refused to subscribe this client to topics (MQTT SUBACK failure: on a DXL fabric, the client is not
/// authorised to receive events on them). Nothing arrives on a refused topic, so it is an error, not a silence.
/// </summary>
public sealed class DxlSubscriptionRefusedException : DxlException
{
    public DxlSubscriptionRefusedException(IReadOnlyList<string> topics)
        : base($"The broker refused to subscribe this client to '{string.Join("', '", topics)}': it is not authorised to receive events on " +
               (topics.Count == 1 ? "that topic" : "those topics") + " (on a DXL fabric, ePO's topic authorization decides).")
    {
        Topics = topics;
    }

    public IReadOnlyList<string> Topics { get; }
}

/// <summary>
/// The connection dropped while a request was waiting for its answer; the answer cannot arrive any more.
/// (Requests marked idempotent are sent again after the reconnect instead of failing with this.)
/// </summary>
public sealed class DxlConnectionLostException : DxlConnectionException
{
    public DxlConnectionLostException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// The fabric could not be reached for the whole of an operation's time: the client was reconnecting (or the live
/// connection had stopped carrying traffic) until the timeout ran out. Says since when and which brokers were tried.
/// </summary>
public sealed class DxlFabricUnreachableException(string message, DateTimeOffset unreachableSince, IReadOnlyList<string> brokersTried, string? lastError)
    : DxlConnectionException(message)
{
    /// <summary>When the connection was lost (or last carried traffic).</summary>
    public DateTimeOffset UnreachableSince { get; } = unreachableSince;

    /// <summary>The brokers the client tried since then, as <c>ssl://host:port</c>.</summary>
    public IReadOnlyList<string> BrokersTried { get; } = brokersTried;

    /// <summary>The last connect error or the reason the connection was dropped.</summary>
    public string? LastError { get; } = lastError;
}

/// <summary>The TLS handshake failed: the reason says which side and why (CA, expiry, key, no certificate).</summary>
public sealed class DxlTlsException : DxlConnectionException
{
    public DxlTlsException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>No response arrived within the timeout. On a DXL fabric this often means missing topic authorisation.</summary>
public sealed class DxlTimeoutException(string topic, string messageId, TimeSpan timeout)
    : DxlException($"No response to the request on '{topic}' (message {messageId}) within {timeout.TotalSeconds:0.###} s. " +
                   "The service may be down, slow, or this client may not be authorised to send on that topic.")
{
    public string Topic { get; } = topic;
    public string MessageId { get; } = messageId;
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>The service or the broker answered with an error response.</summary>
public sealed class DxlErrorResponseException(string topic, DxlErrorResponse response)
    : DxlException(Describe(topic, response))
{
    public string Topic { get; } = topic;
    public DxlErrorResponse Response { get; } = response;
    public uint Code => Response.Code;
    public string ErrorMessage => Response.ErrorMessage ?? "";

    /// <summary>True for 0x80000001: no service is registered for the topic.</summary>
    public bool IsServiceNotFound => Code == DxlErrorCodes.ServiceNotFound;

    private static string Describe(string topic, DxlErrorResponse r) =>
        r.Code == DxlErrorCodes.ServiceNotFound
            ? $"No service is registered for '{topic}' on the fabric (0x{r.Code:X8}: {r.ErrorMessage})."
            : $"The service for '{topic}' answered with error 0x{r.Code:X8}: {r.ErrorMessage}";
}

/// <summary>An envelope larger than the broker's limit: refused before sending.</summary>
public sealed class DxlPayloadTooLargeException(string topic, int size, int limit)
    : DxlException($"The message for '{topic}' is {size} bytes; the broker limit is {limit} bytes. Nothing was sent.")
{
    public int Size { get; } = size;
    public int Limit { get; } = limit;
}
