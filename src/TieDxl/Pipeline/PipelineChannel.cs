using System.Collections.Concurrent;
using System.Management.Automation;

namespace TieDxl.Pipeline;

/// <summary>
/// What a cmdlet writes, as data: worker threads and subscriptions make these, and only the pipeline thread turns
/// them into Write* calls (PowerShell allows no other thread to write). A <see cref="Batch"/> keeps one item's
/// records together and in order.
/// </summary>
internal abstract record PipelineMessage
{
    public sealed record Output(object Value, bool Enumerate = false) : PipelineMessage;
    public sealed record Error(ErrorRecord Record) : PipelineMessage;
    public sealed record Warning(string Text) : PipelineMessage;
    public sealed record Verbose(string Text) : PipelineMessage;
    public sealed record Debug(string Text) : PipelineMessage;
    public sealed record Batch(IReadOnlyList<PipelineMessage> Messages) : PipelineMessage;

    /// <summary>Several messages as one (nulls left out); a single one as itself.</summary>
    public static PipelineMessage Of(params PipelineMessage?[] messages)
    {
        var present = messages.Where(m => m is not null).Select(m => m!).ToArray();
        return present.Length == 1 ? present[0] : new Batch(present);
    }

    /// <summary>True when this message is, or holds, an error record.</summary>
    public bool HasError => this switch
    {
        Error => true,
        Batch b => b.Messages.Any(m => m.HasError),
        _ => false,
    };
}

/// <summary>
/// The one bridge from other threads to the pipeline thread: anyone may <see cref="Post"/>; the pipeline thread
/// waits on <see cref="Signal"/> and takes messages in order. <see cref="Wake"/> rouses the waiter without a
/// message (a task it waits for finished, or the pipeline is stopping).
/// </summary>
internal sealed class PipelineChannel : IDisposable
{
    private readonly ConcurrentQueue<PipelineMessage> _messages = new();
    private readonly AutoResetEvent _signal = new(false);
    private volatile bool _closed;

    public WaitHandle Signal => _signal;

    /// <summary>Queues a message; safe from any thread, also after the cmdlet ended (it is then dropped).</summary>
    public void Post(PipelineMessage message)
    {
        if (_closed) return;
        _messages.Enqueue(message);
        Wake();
    }

    public bool TryTake(out PipelineMessage message) => _messages.TryDequeue(out message!);

    public void Wake()
    {
        if (_closed) return;
        try { _signal.Set(); }
        catch (ObjectDisposedException) { /* the cmdlet ended and nobody waits any more: there is no one to wake */ }
    }

    public void Dispose()
    {
        _closed = true;
        _signal.Dispose();
    }
}
