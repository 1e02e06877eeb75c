using System.Collections.Concurrent;
using System.Management.Automation;
using TieDxl.Dxl;
using TieDxl.Session;

namespace TieDxl.Commands;

/// <summary>
/// Base of every TieDxl cmdlet.
/// <list type="bullet">
/// <item>Ctrl+C: <see cref="StopProcessing"/> cancels <see cref="CancellationToken"/>; <see cref="RunSync{T}"/>
/// then throws <see cref="PipelineStoppedException"/> at once.</item>
/// <item>Async work runs with <see cref="RunSync{T}"/> / <see cref="RunSync"/> on the pipeline thread. While it
/// waits, anything queued with <see cref="Post"/> from other threads (DXL log lines, received events) is
/// executed on the pipeline thread, the only thread allowed to call Write*.</item>
/// <item>Sessions: <see cref="ResolveSession"/> gives the -Session argument or the runspace default, or a
/// terminating <c>DxlNotConnected</c> error.</item>
/// <item>Errors: <see cref="WriteDxlError"/> (one item failed, carry on), <see cref="ThrowDxlError"/> (stop the
/// command), <see cref="HandleDxlException"/> (decides by kind), <see cref="ThrowError"/>/<see cref="WriteError(string, ErrorCategory, object?, string, Exception?, string?)"/>
/// for the cmdlet's own problems.</item>
/// </list>
/// </summary>
public abstract class TieDxlCmdletBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Action> _posted = new();
    private readonly AutoResetEvent _wake = new(false);
    private volatile bool _disposed;

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C, PowerShell.Stop()).</summary>
    protected CancellationToken CancellationToken => _stop.Token;

    protected override void StopProcessing()
    {
        try { _stop.Cancel(); }
        catch (ObjectDisposedException) { }
        Wake();
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
        if (disposing)
        {
            _stop.Dispose();
            _wake.Dispose();
        }
    }

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
            {
                ThrowError(DxlErrors.NotConnected, ErrorCategory.ConnectionError, session,
                    $"The DXL session '{session.Name}' was closed by Disconnect-DxlFabric. Connect again with Connect-DxlFabric.");
            }
            return session;
        }
        var current = SessionRegistry.Current.Default;
        if (current is null)
        {
            ThrowError(DxlErrors.NotConnected, ErrorCategory.ConnectionError, MyInvocation.MyCommand.Name,
                "Not connected to a DXL fabric. Run Connect-DxlFabric first, or pass -Session.",
                recommendedAction: "Connect-DxlFabric -ConfigPath <path to dxlclient.config>");
        }
        return current!;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Async work on the pipeline thread

    /// <summary>
    /// Queues <paramref name="action"/> to run on the pipeline thread during the current (or next)
    /// <see cref="RunSync{T}"/> wait or <see cref="DrainPosted"/> call. Safe from any thread, also after the
    /// cmdlet ended (the action is then dropped).
    /// </summary>
    protected void Post(Action action)
    {
        if (_disposed) return;
        _posted.Enqueue(action);
        Wake();
    }

    /// <summary>Runs everything queued with <see cref="Post"/>. Pipeline thread only.</summary>
    protected void DrainPosted()
    {
        while (_posted.TryDequeue(out var action)) action();
    }

    /// <summary>Wakes a thread blocked in <see cref="RunSync{T}"/> or <see cref="WaitForPosted"/>.</summary>
    protected void Wake()
    {
        if (_disposed) return;
        try { _wake.Set(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Blocks until something is posted, <see cref="Wake"/> is called, the pipeline stops or
    /// <paramref name="timeout"/> passes; then runs the posted actions. Throws
    /// <see cref="PipelineStoppedException"/> when stopping. Returns false on timeout.
    /// </summary>
    protected bool WaitForPosted(TimeSpan timeout)
    {
        ThrowIfStopping();
        var signalled = timeout == Timeout.InfiniteTimeSpan
            ? _wake.WaitOne()
            : _wake.WaitOne(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout);
        ThrowIfStopping();
        DrainPosted();
        return signalled;
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
            WriteError(DxlErrors.InvalidPayload, ErrorCategory.InvalidArgument, payload, ex.Message, ex);
            bytes = Array.Empty<byte>();
            return false;
        }
    }

    protected void ThrowIfStopping()
    {
        if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
    }

    /// <summary>
    /// Runs async work and waits for it on the pipeline thread, pumping posted actions meanwhile. The token
    /// passed to <paramref name="work"/> is cancelled on Ctrl+C and after <paramref name="timeout"/>.
    /// Ctrl+C → <see cref="PipelineStoppedException"/>; timeout → <see cref="TimeoutException"/>; any other
    /// exception of the work is rethrown as is (DXL exceptions: map with <see cref="HandleDxlException"/>).
    /// While it runs, the log of <paramref name="logFrom"/> goes to the verbose/debug/warning streams.
    /// </summary>
    protected T RunSync<T>(Func<CancellationToken, Task<T>> work, TimeSpan? timeout = null, DxlSession? logFrom = null)
    {
        ThrowIfStopping();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        if (timeout is { } t && t != Timeout.InfiniteTimeSpan) linked.CancelAfter(t);
        using var log = logFrom?.AttachLog(PostLog);
        Task<T> task;
        try
        {
            task = work(linked.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        _ = task.ContinueWith(static (_, state) => ((TieDxlCmdletBase)state!).Wake(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        while (!task.IsCompleted)
        {
            _wake.WaitOne();
            DrainPosted();
            if (_stop.IsCancellationRequested && !task.IsCompleted)
            {
                // The work ignores the token: do not hang the console. Observe its outcome later.
                _ = task.ContinueWith(static tk => _ = tk.Exception, TaskScheduler.Default);
                throw new PipelineStoppedException();
            }
        }
        DrainPosted();

        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (OperationCanceledException ex) when (linked.IsCancellationRequested && timeout is not null)
        {
            throw new TimeoutException($"The operation did not complete within {timeout.Value.TotalSeconds:0.###} s.", ex);
        }
    }

    /// <inheritdoc cref="RunSync{T}"/>
    protected void RunSync(Func<CancellationToken, Task> work, TimeSpan? timeout = null, DxlSession? logFrom = null) =>
        RunSync<bool>(async ct => { await work(ct).ConfigureAwait(false); return true; }, timeout, logFrom);

    /// <summary>A DXL log sink that may be called on any thread: posts the line to the right stream.</summary>
    protected void PostLog(DxlLogLevel level, string message) => Post(() =>
    {
        switch (level)
        {
            case DxlLogLevel.Debug: WriteDebug(message); break;
            case DxlLogLevel.Information: WriteVerbose(message); break;
            default: WriteWarning(message); break;
        }
    });

    // ---------------------------------------------------------------------------------------------------------
    // Errors

    /// <summary>Stops the command with an error of the module's own (id <c>&lt;Problem&gt;</c>).</summary>
    protected void ThrowError(string errorId, ErrorCategory category, object? target, string message,
        Exception? exception = null, string? recommendedAction = null) =>
        ThrowTerminatingError(DxlErrors.Create(errorId, category, target, message, exception, recommendedAction));

    /// <summary>Reports one failed item and carries on.</summary>
    protected void WriteError(string errorId, ErrorCategory category, object? target, string message,
        Exception? exception = null, string? recommendedAction = null) =>
        WriteError(DxlErrors.Create(errorId, category, target, message, exception, recommendedAction));

    /// <summary>Reports a DXL (or other) exception for one item as a non-terminating error and carries on.</summary>
    protected void WriteDxlError(Exception exception, object? target) =>
        WriteError(DxlErrors.FromException(exception, target));

    /// <summary>Stops the command with a DXL (or other) exception mapped to an error record.</summary>
    protected void ThrowDxlError(Exception exception, object? target) =>
        ThrowTerminatingError(DxlErrors.FromException(exception, target));

    /// <summary>
    /// Connection and configuration failures stop the command (every further item would fail the same way);
    /// timeouts, error responses and the like are written for this item only.
    /// <see cref="PipelineStoppedException"/> is rethrown.
    /// </summary>
    protected void HandleDxlException(Exception exception, object? target)
    {
        if (exception is PipelineStoppedException) throw exception;
        if (DxlErrors.IsTerminating(exception)) ThrowDxlError(exception, target);
        else WriteDxlError(exception, target);
    }
}
