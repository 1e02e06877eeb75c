using System.Globalization;
using System.Threading.RateLimiting;

namespace TieDxl.Tie.Caching;

/// <summary>
/// A cap on requests per second to TIE: a token bucket from System.Threading.RateLimiting. It starts empty, so the
/// rate holds from the first second (a bucket that starts full lets a burst through and makes short runs faster than
/// asked); it holds one second's worth after that, the usual burst of a token bucket, so a run that paused may catch
/// up by that much at most. It is refilled by this class's timer with what the time elapsed is worth, not by the
/// limiter's own timer, which adds one step's tokens per tick whatever time passed; and a second's room means that a
/// timer firing late on a loaded machine loses no token: what accrued meanwhile fits (with a quarter of a second's room,
/// 2,000 requests at 500/s took up to 4.75 s instead of 4 on a busy 2-core machine).
/// Only requests that reach TIE take a token; waiting for one ends at once on cancellation and counts against no
/// request's timeout (the timeout starts when the request is sent).
/// </summary>
public sealed class TieRequestRate : IDisposable
{
    /// <summary>The lowest and highest rates accepted (one request a minute to a million a second).</summary>
    public const double MinRequestsPerSecond = 1.0 / 60, MaxRequestsPerSecond = 1_000_000;

    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    private readonly TokenBucketRateLimiter _bucket;
    private readonly Timer _refill;
    private long _waits;

    public TieRequestRate(double requestsPerSecond)
    {
        if (!(requestsPerSecond >= MinRequestsPerSecond && requestsPerSecond <= MaxRequestsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(requestsPerSecond), requestsPerSecond,
                string.Create(CultureInfo.InvariantCulture, $"The rate must be between {MinRequestsPerSecond:0.####} and {MaxRequestsPerSecond} requests per second."));
        RequestsPerSecond = requestsPerSecond;
        var tokensPerStep = Math.Max(1, (int)Math.Round(requestsPerSecond * Step.TotalSeconds));
        var period = TimeSpan.FromSeconds(tokensPerStep / requestsPerSecond);
        var secondsWorth = Math.Max(tokensPerStep, (int)Math.Min(int.MaxValue, Math.Round(requestsPerSecond)));
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = secondsWorth,
            TokensPerPeriod = tokensPerStep,
            ReplenishmentPeriod = period,
            AutoReplenishment = false,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            // Callers waiting are bounded by the runs' throttles; the bucket never refuses one.
            QueueLimit = 1_000_000,
        });
        using (_bucket.AttemptAcquire(secondsWorth)) { /* empties the bucket: see above */ }
        _refill = new Timer(static bucket => ((TokenBucketRateLimiter)bucket!).TryReplenish(), _bucket, period, period);
    }

    /// <summary>The cap.</summary>
    public double RequestsPerSecond { get; }

    /// <summary>How many requests had to wait for a token.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Takes a token, waiting for one when none is left; cancellation ends the wait at once.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        using var lease = _bucket.AttemptAcquire(1);
        return lease.IsAcquired ? ValueTask.CompletedTask : WaitForTokenAsync(cancellationToken);
    }

    private async ValueTask WaitForTokenAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waits);
        using var lease = await _bucket.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired) throw new InvalidOperationException("The request rate limiter refused a request (it was disposed).");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{RequestsPerSecond:0.##}/s");

    public void Dispose()
    {
        _refill.Dispose();
        _bucket.Dispose();
    }
}
