namespace TieDxl.Tests.Infrastructure;

/// <summary>Bounded waits for state that settles on another thread (the broker's bookkeeping after a close).</summary>
internal static class Poll
{
    /// <summary>True as soon as <paramref name="condition"/> holds; false when <paramref name="timeout"/> passes first.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(20);
        }
        return true;
    }
}
