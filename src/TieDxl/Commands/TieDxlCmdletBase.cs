using System.Diagnostics.CodeAnalysis;
using System.Management.Automation;
using TieDxl.Dxl;
using TieDxl.Errors;
using TieDxl.Pipeline;
using TieDxl.Session;

namespace TieDxl.Commands;

/// <summary>
/// Base of every TieDxl cmdlet: the bridge to the pipeline thread (<see cref="PipelineBridge"/>: Ctrl+C, messages
/// from other threads, waits), one way to run an operation and map its failure (<see cref="Run{T}"/>,
/// <see cref="TryRun{T}"/>, <see cref="Guard{T}"/>), and the error helpers (ids and the exception mapping live in
/// <see cref="ErrorCatalog"/>). Commands that use a session derive from <see cref="DxlSessionCmdletBase"/>.
/// </summary>
public abstract class TieDxlCmdletBase : PSCmdlet, IDisposable
{
    private bool _disposed;

    protected TieDxlCmdletBase() => Bridge = new PipelineBridge(this);

    private protected PipelineBridge Bridge { get; }

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C, PowerShell.Stop()).</summary>
    protected CancellationToken CancellationToken => Bridge.Token;

    /// <summary>Where other threads put what this cmdlet should write.</summary>
    private protected PipelineChannel Channel => Bridge.Channel;

    protected override void StopProcessing()
    {
        Bridge.Stop();
        base.StopProcessing();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (disposing) Bridge.Dispose();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The pipeline thread (see PipelineBridge)

    /// <inheritdoc cref="PipelineBridge.Pump"/>
    private protected int Pump(int outputBudget = int.MaxValue) => Bridge.Pump(outputBudget);

    /// <inheritdoc cref="PipelineBridge.Write"/>
    private protected int Write(PipelineMessage message) => Bridge.Write(message);

    /// <inheritdoc cref="PipelineBridge.WaitFor"/>
    private protected bool WaitFor(Task task) => Bridge.WaitFor(task);

    /// <inheritdoc cref="PipelineBridge.WaitForMessages"/>
    private protected void WaitForMessages(DateTime? deadline) => Bridge.WaitForMessages(deadline);

    /// <inheritdoc cref="PipelineBridge.WaitBounded"/>
    private protected bool WaitBounded(Task task, TimeSpan bound) => Bridge.WaitBounded(task, bound);

    protected void ThrowIfStopping() => Bridge.ThrowIfStopping();

    /// <inheritdoc cref="PipelineBridge.RunSync{T}"/>
    protected T RunSync<T>(Func<CancellationToken, Task<T>> work, TimeSpan? timeout = null, DxlSession? logFrom = null) =>
        Bridge.RunSync(work, timeout, logFrom);

    /// <inheritdoc cref="PipelineBridge.RunSync{T}"/>
    protected void RunSync(Func<CancellationToken, Task> work, TimeSpan? timeout = null, DxlSession? logFrom = null) =>
        Bridge.RunSync(async ct => { await work(ct).ConfigureAwait(false); return true; }, timeout, logFrom);

    /// <inheritdoc cref="PipelineBridge.PostLog"/>
    private protected void PostLog(DxlLogLevel level, string message) => Bridge.PostLog(level, message);

    // ---------------------------------------------------------------------------------------------------------
    // Running an operation and mapping its failure: the one place that decides what a failure does to the command.

    /// <summary>
    /// Runs <paramref name="work"/> (see <see cref="RunSync{T}"/>); a failure stops the command with its mapped error
    /// record, targeting <paramref name="target"/>. Ctrl+C stops the pipeline.
    /// </summary>
    private protected T Run<T>(Func<CancellationToken, Task<T>> work, object? target, TimeSpan? timeout = null, DxlSession? logFrom = null) =>
        Guard(() => RunSync(work, timeout, logFrom), target);

    /// <inheritdoc cref="Run{T}"/>
    private protected void Run(Func<CancellationToken, Task> work, object? target, TimeSpan? timeout = null, DxlSession? logFrom = null) =>
        Run(async ct => { await work(ct).ConfigureAwait(false); return true; }, target, timeout, logFrom);

    /// <summary>
    /// Runs the work for one input (see <see cref="RunSync{T}"/>). A failure that every further input would meet too
    /// (connection, configuration) stops the command; any other is written for this input and gives false.
    /// </summary>
    private protected bool TryRun<T>(Func<CancellationToken, Task<T>> work, object? target, out T result, TimeSpan? timeout = null, DxlSession? logFrom = null)
    {
        try
        {
            result = RunSync(work, timeout, logFrom);
            return true;
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            HandleDxlException(ex, target);
            result = default!;
            return false;
        }
    }

    /// <inheritdoc cref="TryRun{T}"/>
    private protected bool TryRun(Func<CancellationToken, Task> work, object? target, TimeSpan? timeout = null, DxlSession? logFrom = null) =>
        TryRun(async ct => { await work(ct).ConfigureAwait(false); return true; }, target, out _, timeout, logFrom);

    /// <summary>Runs synchronous work; a failure stops the command with its mapped error record, targeting <paramref name="target"/>.</summary>
    private protected T Guard<T>(Func<T> work, object? target)
    {
        try
        {
            return work();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            throw ThrowDxlError(ex, target);
        }
    }

    /// <inheritdoc cref="Guard{T}"/>
    private protected void Guard(Action work, object? target) => Guard(() => { work(); return true; }, target);

    // ---------------------------------------------------------------------------------------------------------
    // Sessions

    /// <summary>
    /// The session to use: <paramref name="session"/> if given, else the runspace's default. Terminating
    /// <c>DxlNotConnected</c> (ConnectionError) when there is none or it was closed.
    /// </summary>
    protected DxlSession ResolveSession(DxlSession? session)
    {
        if (session is not null)
        {
            if (session.IsClosed)
                ThrowError(ErrorCatalog.NotConnected, ErrorCategory.ConnectionError, session,
                    $"The DXL session '{session.Name}' was closed by Disconnect-DxlFabric. Connect again with Connect-DxlFabric.");
            return session;
        }
        return SessionRegistry.Current.Default
            ?? throw ThrowError(ErrorCatalog.NotConnected, ErrorCategory.ConnectionError, MyInvocation.MyCommand.Name,
                "Not connected to a DXL fabric. Run Connect-DxlFabric first, or pass -Session.",
                recommendedAction: "Connect-DxlFabric -ConfigPath <path to dxlclient.config>");
    }

    /// <summary>
    /// Connects a session made by <see cref="RunspaceSessions.Create"/> and registers it as the runspace's default.
    /// When the connect fails or is stopped, the session is closed (bounded) and the exception propagates.
    /// </summary>
    private protected void OpenSession(DxlSession session, TimeSpan timeout)
    {
        try
        {
            RunSync(ct => session.Client.ConnectAsync(ct), timeout, logFrom: session);
        }
        catch (Exception)
        {
            WaitBounded(SessionRegistry.CloseAsync(session), SessionRegistry.CloseTimeout);
            throw;
        }
        session.Owner!.Register(session);
    }

    /// <summary>Converts a -Payload value to bytes, or writes a DxlInvalidPayload error for it and returns false.</summary>
    private protected bool TryGetPayloadBytes(object? payload, bool asJson, out byte[] bytes)
    {
        try
        {
            bytes = Infrastructure.Payload.ToBytes(payload, asJson);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            WriteError(ErrorCatalog.Create(ErrorCatalog.InvalidPayload, ErrorCategory.InvalidArgument, payload, ex.Message, ex));
            bytes = Array.Empty<byte>();
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Errors

    /// <summary>
    /// Stops the command with an error of the module's own. It never returns; the exception it is declared to
    /// return lets a call site say <c>throw ThrowError(...)</c> where the compiler needs to see the end of a path.
    /// </summary>
    [DoesNotReturn]
    protected Exception ThrowError(string errorId, ErrorCategory category, object? target, string message,
        Exception? exception = null, string? recommendedAction = null) =>
        ErrorCatalog.Throw(this, ErrorCatalog.Create(errorId, category, target, message, exception, recommendedAction));

    /// <summary>Reports one failed item and carries on.</summary>
    protected void WriteError(string errorId, ErrorCategory category, object? target, string message,
        Exception? exception = null, string? recommendedAction = null) =>
        WriteError(ErrorCatalog.Create(errorId, category, target, message, exception, recommendedAction));

    /// <summary>Reports an exception for one item as a non-terminating error and carries on.</summary>
    protected void WriteDxlError(Exception exception, object? target) =>
        WriteError(ErrorCatalog.FromException(exception, target));

    /// <summary>Stops the command with an exception mapped to an error record (never returns, as <see cref="ThrowError"/>).</summary>
    [DoesNotReturn]
    protected Exception ThrowDxlError(Exception exception, object? target) =>
        ErrorCatalog.Throw(this, ErrorCatalog.FromException(exception, target));

    /// <summary>
    /// Connection and configuration failures stop the command (every further item would fail the same way);
    /// timeouts, error responses and the like are written for this item only.
    /// <see cref="PipelineStoppedException"/> is rethrown.
    /// </summary>
    protected void HandleDxlException(Exception exception, object? target)
    {
        if (exception is PipelineStoppedException) throw exception;
        if (ErrorCatalog.IsTerminating(exception)) ThrowDxlError(exception, target);
        WriteDxlError(exception, target);
    }
}
