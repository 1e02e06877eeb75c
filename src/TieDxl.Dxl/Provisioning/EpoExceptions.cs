namespace TieDxl.Dxl.Provisioning;

/// <summary>
/// A call to ePO's remote-command interface failed. <see cref="Server"/> is host:port, <see cref="Command"/> the
/// remote command. Messages carry ePO's own text where it gave one, never credentials, the CSR or a key.
/// </summary>
public abstract class EpoException(string server, string command, string message, Exception? inner = null)
    : DxlException($"ePO {server}, command {command}: {message}", inner)
{
    public string Server { get; } = server;
    public string Command { get; } = command;
}

/// <summary>ePO answered 401: the user name or password is wrong.</summary>
public sealed class EpoAuthenticationException(string server, string command, string user)
    : EpoException(server, command, $"ePO refused the credentials of user '{user}' (HTTP 401): check the user name and password")
{
    public string User { get; } = user;
}

/// <summary>The user signed in but may not run the command (it needs the "DXL Client Management" or administrator permission set).</summary>
public sealed class EpoPermissionException(string server, string command, string user, string epoText)
    : EpoException(server, command, $"user '{user}' may not run this command; give the user the \"DXL Client Management\" permission set (ePO said: {epoText})")
{
    public string User { get; } = user;
    public string EpoText { get; } = epoText;
}

/// <summary>No connection: the name does not resolve, nothing listens on the port, or the host did not answer in time.</summary>
public sealed class EpoUnreachableException : EpoException
{
    public EpoUnreachableException(string server, string command, string reason, Exception? inner = null)
        : base(server, command, $"ePO cannot be reached: {reason}", inner) { }
}

/// <summary>The TLS handshake with ePO failed (most often: its certificate is not trusted).</summary>
public sealed class EpoTlsException : EpoException
{
    public EpoTlsException(string server, string command, string reason, Exception? inner = null)
        : base(server, command, $"the TLS connection to ePO failed: {reason}", inner) { }
}

/// <summary>Something answered, but not as ePO's remote-command interface does (an HTML page, a 404, another service).</summary>
public sealed class EpoNotEpoException : EpoException
{
    public EpoNotEpoException(string server, string command, string reason)
        : base(server, command, $"the server does not answer as ePO does: {reason}; check the host name and port (ePO's default is 8443)") { }
}

/// <summary>ePO ran the command and reported an error (<c>Error {n}: {text}</c>).</summary>
public sealed class EpoCommandException(string server, string command, int code, string epoText)
    : EpoException(server, command, $"ePO reported Error {code}: {epoText}")
{
    public int Code { get; } = code;
    public string EpoText { get; } = epoText;
}

/// <summary>ePO answered OK, but the answer does not have the expected form (bad JSON, missing parts, no certificate, a bad broker line).</summary>
public sealed class EpoAnswerException : EpoException
{
    public EpoAnswerException(string server, string command, string reason, Exception? inner = null)
        : base(server, command, $"the answer cannot be used: {reason}", inner) { }
}

/// <summary>Provisioning cannot go on (files exist, the certificate does not match the key, a file is missing). Nothing was written.</summary>
public sealed class DxlProvisioningException : DxlException
{
    public DxlProvisioningException(string message, Exception? inner = null) : base(message, inner) { }
}
