using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using TieDxl.Commands;
using TieDxl.Pipeline;

namespace TieDxl.Tests.Cmdlets;

/// <summary>A cmdlet that only exercises <see cref="TieDxlCmdletBase"/>: messages from worker threads, waits, Ctrl+C.</summary>
[Cmdlet("Test", "TieDxlCmdletBase")]
public sealed class TestTieDxlCmdletBaseCommand : TieDxlCmdletBase
{
    /// <summary>How many messages worker threads post while the pipeline thread waits.</summary>
    [Parameter] public int Messages { get; set; }

    /// <summary>Work that never finishes and ignores its token (as a hung library call would).</summary>
    [Parameter] public SwitchParameter Hang { get; set; }

    /// <summary>Run a cleanup wait of this many ms on a task that never finishes, and write whether it finished.</summary>
    [Parameter] public int CleanupWaitMs { get; set; }

    protected override void EndProcessing()
    {
        if (CleanupWaitMs > 0)
        {
            WriteObject(WaitBounded(new TaskCompletionSource().Task, TimeSpan.FromMilliseconds(CleanupWaitMs)));
            return;
        }
        var count = Messages;
        var hang = Hang.IsPresent;
        var result = RunSync(async _ =>
        {
            // Two worker threads at once; each message says which thread and which number it is.
            await Task.WhenAll(Enumerable.Range(0, 2).Select(worker => Task.Run(() =>
            {
                for (var i = 0; i < count; i++)
                {
                    Channel.Post(new PipelineMessage.Verbose($"{worker}:{i}"));
                    Channel.Post(new PipelineMessage.Output($"{worker}:{i}"));
                }
            })));
            if (hang) await new TaskCompletionSource().Task;
            return "done";
        });
        WriteObject(result);
    }
}

public sealed class CmdletBaseTests
{
    private static PowerShell NewShell()
    {
        var state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateCmdletEntry("Test-TieDxlCmdletBase", typeof(TestTieDxlCmdletBaseCommand), null));
        var ps = PowerShell.Create(state);
        return ps;
    }

    [Fact]
    public void MessagesPostedByWorkerThreadsAreAllWrittenOnThePipelineThreadInTheOrderEachThreadPosted()
    {
        using var ps = NewShell();
        ps.AddCommand("Test-TieDxlCmdletBase").AddParameter("Messages", 2000).AddParameter("Verbose");
        var output = ps.Invoke().Select(o => o.BaseObject.ToString()!).ToList();
        Assert.False(ps.HadErrors);
        Assert.Equal("done", output[^1]);
        Assert.Equal(4001, output.Count);
        foreach (var worker in new[] { "0", "1" })
        {
            var mine = output.Where(o => o.StartsWith(worker + ":", StringComparison.Ordinal)).Select(o => int.Parse(o[2..])).ToList();
            Assert.Equal(Enumerable.Range(0, 2000), mine);
        }
        Assert.Equal(4000, ps.Streams.Verbose.Count);
    }

    [Fact]
    public void StopEndsAWaitOnWorkThatIgnoresItsTokenWithinASecond()
    {
        using var ps = NewShell();
        ps.AddCommand("Test-TieDxlCmdletBase").AddParameter("Messages", 1).AddParameter("Hang");
        var running = ps.BeginInvoke();
        var wait = Stopwatch.StartNew();
        while (ps.InvocationStateInfo.State != PSInvocationState.Running && wait.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(10);
        Thread.Sleep(300);
        Assert.False(running.IsCompleted, "the work never ends: the command must still be waiting");
        var stopping = Stopwatch.StartNew();
        ps.Stop();
        Assert.True(running.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(5)));
        Assert.InRange(stopping.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
    }

    [Fact]
    public void ACleanupWaitIsBoundedAndGivesUpAtOnceOnStop()
    {
        using (var ps = NewShell())
        {
            ps.AddCommand("Test-TieDxlCmdletBase").AddParameter("CleanupWaitMs", 300);
            var clock = Stopwatch.StartNew();
            var result = ps.Invoke();
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
            Assert.False((bool)result.Single().BaseObject);
        }
        using (var ps = NewShell())
        {
            ps.AddCommand("Test-TieDxlCmdletBase").AddParameter("CleanupWaitMs", 60_000);
            var running = ps.BeginInvoke();
            Thread.Sleep(500);
            var stopping = Stopwatch.StartNew();
            ps.Stop();
            Assert.True(running.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(5)), "a 60 s cleanup wait must give up on Stop");
            Assert.InRange(stopping.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        }
    }
}
