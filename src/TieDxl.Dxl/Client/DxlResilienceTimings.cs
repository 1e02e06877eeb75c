namespace TieDxl.Dxl.Client;

/// <summary>
/// Timings of the client's own fault handling. The defaults give: a silent connection noticed within about 11 s of
/// the first unanswered request and within about 36 s when the session only listens, whatever keep-alive the config
/// sends to the broker. Tests shorten them.
/// </summary>
internal sealed record DxlResilienceTimings
{
    public static DxlResilienceTimings Default { get; } = new();

    /// <summary>How often the monitor looks at the counters (it does nothing else unless something is overdue).</summary>
    public TimeSpan MonitorInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A request unanswered this long, with nothing at all received meanwhile, triggers a liveness check.</summary>
    public TimeSpan UnansweredBeforeCheck { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Nothing received for this long (a listen-only session) triggers a liveness check.</summary>
    public TimeSpan IdleBeforeCheck { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The MQTT ping must be answered within this; otherwise the connection is closed as dead.</summary>
    public TimeSpan LivenessCheckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After a reconnect, services re-register a little later: during this window "no service" and "no answer" are retried.</summary>
    public TimeSpan SettleWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait for an answer inside the settle window before an idempotent request is sent again; doubles each time.</summary>
    public TimeSpan SettleFirstAnswerWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>First pause before retrying a "no service" answer inside the settle window; doubles up to 2 s.</summary>
    public TimeSpan ServiceNotFoundFirstBackOff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long closing a dead connection may take before the reconnect goes ahead anyway.</summary>
    public TimeSpan DeadConnectionTeardown { get; init; } = TimeSpan.FromSeconds(2);
}
