using System.Management.Automation;
using TieDxl.Dxl;

namespace TieDxl.Pipeline;

/// <summary>
/// A cmdlet's bridge to its pipeline thread.
/// <list type="bullet">
/// <item>Ctrl+C: <see cref="Stop"/> cancels <see cref="Token"/>; waits then throw <see cref="PipelineStoppedException"/> at once.</item>
/// <item>Other threads never write: they post <see cref="PipelineMessage"/>s to <see cref="Channel"/>, which the
/// pipeline thread writes while it waits (<see cref="RunSync{T}"/>, <see cref="WaitFor"/>) or in <see cref="Pump"/>.</item>
/// <item>Cleanup waits (<see cref="WaitBounded"/>) are bounded and give up at once on Ctrl+C.</item>
/// </list>
/// </summary>
internal sealed class PipelineBridge : IDisposable
{
    private readonly Cmdlet _cmdlet;
    private readonly CancellationTokenSource _stop = new();

    public PipelineBridge(Cmdlet cmdlet) => _cmdlet = cmdlet;

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C, PowerShell.Stop()).</summary>
    public CancellationToken Token => _stop.Token;

    public bool IsStopping => _stop.IsCancellationRequested;

    /// <summary>Where other threads put what the cmdlet should write.</summary>
    public PipelineChannel Channel { get; } = new();

    /// <summary>From <see cref="Cmdlet.StopProcessing"/>: cancels the work and wakes the waiting pipeline thread.</summary>
    public void Stop()
    {
        try { _stop.Cancel(); }
        catch (ObjectDisposedException) { /* the cmdlet already ended: nothing left to stop */ }
        Channel.Wake();
    }

    public void Dispose()
    {
        Channel.Dispose();
        _stop.Dispose();
    }

    public void ThrowIfStopping()
    {
        if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
    }

    /// <summary>Writes every message posted so far. Pipeline thread only. Returns how many outputs it wrote.</summary>
    public int Pump(int outputBudget = int.MaxValue)
    {
        var written = 0;
        while (written < outputBudget && Channel.TryTake(out var message))
            written += Write(message, outputBudget - written);
        return written;
    }

    /// <summary>Writes one message (a batch in order). Returns how many outputs it wrote.</summary>
    public int Write(PipelineMessage message, int outputBudget = int.MaxValue)
    {
        switch (message)
        {
            case PipelineMessage.Output o:
                if (outputBudget <= 0) return 0;
                _cmdlet.WriteObject(o.Value, o.Enumerate);
                return 1;
            case PipelineMessage.Error e: _cmdlet.WriteError(e.Record); return 0;
            case PipelineMessage.Warning w: _cmdlet.WriteWarning(w.Text); return 0;
            case PipelineMessage.Verbose v: _cmdlet.WriteVerbose(v.Text); return 0;
            case PipelineMessage.Debug d: _cmdlet.WriteDebug(d.Text); return 0;
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
    public bool WaitFor(Task task, DateTime? deadline = null)
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

    /// <summary>Waits for posted messages until <paramref name="deadline"/> or Ctrl+C, writing none; for streaming cmdlets.</summary>
    public void WaitForMessages(DateTime? deadline)
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
    public bool WaitBounded(Task task, TimeSpan bound)
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

    /// <summary>
    /// Runs async work and waits for it on the pipeline thread, writing posted messages meanwhile. The token
    /// passed to <paramref name="work"/> is cancelled on Ctrl+C and after <paramref name="timeout"/>.
    /// Ctrl+C → <see cref="PipelineStoppedException"/>; timeout → <see cref="TimeoutException"/>; any other
    /// exception of the work is rethrown as is. While it runs, the log of <paramref name="logFrom"/> is written
    /// to the verbose/debug/warning streams.
    /// </summary>
    public T RunSync<T>(Func<CancellationToken, Task<T>> work, TimeSpan? timeout = null, DxlSession? logFrom = null)
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

    /// <summary>A DXL log sink that may be called on any thread: posts the line to the right stream.</summary>
    public void PostLog(DxlLogLevel level, string message) => Channel.Post(level switch
    {
        DxlLogLevel.Debug => new PipelineMessage.Debug(message),
        DxlLogLevel.Information => new PipelineMessage.Verbose(message),
        _ => new PipelineMessage.Warning(message),
    });

    /// <summary>Wakes the pipeline thread's wait when <paramref name="task"/> finishes.</summary>
    private void WakeWhenDone(Task task)
    {
        if (!task.IsCompleted)
            _ = task.ContinueWith(static (_, state) => ((PipelineChannel)state!).Wake(), Channel,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static void Observe(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}
