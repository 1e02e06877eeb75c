using System.Diagnostics.CodeAnalysis;
using System.Management.Automation;
using TieDxl.Dxl;
using TieDxl.Errors;
using TieDxl.Pipeline;
using TieDxl.Session;

namespace TieDxl.Commands;

/// <summary>
/// Base of every TieDxl cmdlet.
/// <list type="bullet">
/// <item>Ctrl+C: <see cref="StopProcessing"/> cancels <see cref="CancellationToken"/>; waits then throw
/// <see cref="PipelineStoppedException"/> at once.</item>
/// <item>Other threads never write: they post <see cref="PipelineMessage"/>s to <see cref="Channel"/>, which the
/// pipeline thread writes while it waits (<see cref="RunSync{T}"/>, <see cref="WaitFor"/>) or in <see cref="Pump"/>.</item>
/// <item>Cleanup waits (<see cref="WaitBounded"/>) are bounded and give up at once on Ctrl+C.</item>
/// <item>Sessions: <see cref="ResolveSession"/> gives the -Session argument or the runspace default, or a
/// terminating <c>DxlNotConnected</c> error; <see cref="OpenSession"/> connects and registers a new one.</item>
/// <item>Errors: ids and the exception mapping live in <see cref="ErrorCatalog"/>.</item>
/// </list>
/// </summary>
public abstract class TieDxlCmdletBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private bool _disposed;

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C, PowerShell.Stop()).</summary>
    protected CancellationToken CancellationToken => _stop.Token;

    /// <summary>Where other threads put what this cmdlet should write.</summary>
    private protected PipelineChannel Channel { get; } = new();

    protected override void StopProcessing()
    {
        try { _stop.Cancel(); }
        catch (ObjectDisposedException) { }
        Channel.Wake();
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
            Channel.Dispose();
            _stop.Dispose();
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

    // ---------------------------------------------------------------------------------------------------------
    // Writing what other threads posted, and waiting

    /// <summary>Writes every message posted so far. Pipeline thread only. Returns how many outputs it wrote.</summary>
    private protected int Pump(int outputBudget = int.MaxValue)
    {
        var written = 0;
        while (written < outputBudget && Channel.TryTake(out var message))
            written += Write(message, outputBudget - written);
        return written;
    }

    /// <summary>Writes one message (a batch in order). Returns how many outputs it wrote.</summary>
    private protected int Write(PipelineMessage message, int outputBudget = int.MaxValue)
    {
        switch (message)
        {
            case PipelineMessage.Output o:
                if (outputBudget <= 0) return 0;
                WriteObject(o.Value, o.Enumerate);
                return 1;
            case PipelineMessage.Error e: WriteError(e.Record); return 0;
            case PipelineMessage.Warning w: WriteWarning(w.Text); return 0;
            case PipelineMessage.Verbose v: WriteVerbose(v.Text); return 0;
            case PipelineMessage.Debug d: WriteDebug(d.Text); return 0;
            case PipelineMessage.Batch b:
                var written = 0;
                foreach (var m in b.Messages) written += Write(m, outputBudget - written);
                return written;
            default: return 0;
        }
    }

    /// <summary>
    /// Waits for <paramref name="task"/> (or until <paramref name="deadline"/>), writing posted messages meanwhile.
    /// Ctrl+C → <see cref="PipelineStoppedException"/>; the task then goes on unobserved. Returns false on deadline.
    /// </summary>
    private protected bool WaitFor(Task task, DateTime? deadline = null)
    {
        ThrowIfStopping();
        WakeWhenDone(task);
        while (!task.IsCompleted)
        {
            var wait = Timeout.InfiniteTimeSpan;
            if (deadline is { } d)
            {
                wait = d - DateTime.UtcNow;
                if (wait <= TimeSpan.Zero) return false;
            }
            Channel.Signal.WaitOne(wait);
            Pump();
            if (_stop.IsCancellationRequested && !task.IsCompleted)
            {
                Observe(task);
                throw new PipelineStoppedException();
            }
        }
        Pump();
        return true;
    }

    /// <summary>Waits for posted messages until <paramref name="deadline"/> or Ctrl+C, writing them; for streaming cmdlets.</summary>
    private protected void WaitForMessages(DateTime? deadline)
    {
        ThrowIfStopping();
        var wait = deadline is { } d ? d - DateTime.UtcNow : Timeout.InfiniteTimeSpan;
        if (deadline is not null && wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        Channel.Signal.WaitOne(wait);
        ThrowIfStopping();
    }

    /// <summary>
    /// A cleanup wait: for <paramref name="task"/> at most <paramref name="bound"/>, giving up at once on Ctrl+C, never
    /// throwing (the task's own failure is observed and dropped). Posted messages are written unless stopping.
    /// Returns true when the task finished in time.
    /// </summary>
    private protected bool WaitBounded(Task task, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        Observe(task);
        WakeWhenDone(task);
        while (!task.IsCompleted && !_stop.IsCancellationRequested)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            Channel.Signal.WaitOne(left);
            if (!_stop.IsCancellationRequested)
            {
                try { Pump(); }
                catch (PipelineStoppedException) { return task.IsCompleted; }
            }
        }
        return task.IsCompleted;
    }

    /// <summary>Wakes the pipeline thread's wait when <paramref name="task"/> finishes.</summary>
    private void WakeWhenDone(Task task)
    {
        if (!task.IsCompleted)
            _ = task.ContinueWith(static (_, state) => ((PipelineChannel)state!).Wake(), Channel,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static void Observe(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    protected void ThrowIfStopping()
    {
        if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
    }

    /// <summary>
    /// Runs async work and waits for it on the pipeline thread, writing posted messages meanwhile. The token
    /// passed to <paramref name="work"/> is cancelled on Ctrl+C and after <paramref name="timeout"/>.
    /// Ctrl+C → <see cref="PipelineStoppedException"/>; timeout → <see cref="TimeoutException"/>; any other
    /// exception of the work is rethrown as is. While it runs, the log of <paramref name="logFrom"/> is written
    /// to the verbose/debug/warning streams.
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
        WaitFor(task);
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
    private protected void PostLog(DxlLogLevel level, string message) => Channel.Post(level switch
    {
        DxlLogLevel.Debug => new PipelineMessage.Debug(message),
        DxlLogLevel.Information => new PipelineMessage.Verbose(message),
        _ => new PipelineMessage.Warning(message),
    });

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
