using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Tls;

namespace TieDxl.Dxl.Client;

public enum DxlCheckStatus { Passed, Warning, Failed, Skipped }

/// <summary>One step of a connection check: what was checked, how it went and why.</summary>
public sealed record DxlCheckStep(int Step, string Name, DxlCheckStatus Status, string Detail, TimeSpan Elapsed, string? Target = null);

/// <summary>
/// Checks a connection step by step (config, TCP, TLS, MQTT, reply topic, service registry, a sample request) and
/// says which step fails and why. The reference clients mostly show a bare timeout; the order of the steps tells a
/// wrong certificate (TLS) from a missing topic authorisation (service registered but never answers).
/// </summary>
public static class DxlDiagnostics
{
    /// <summary>
    /// Runs every step in order; after the first failure the rest are Skipped. <paramref name="sampleRequest"/> is the
    /// final step (e.g. one TIE lookup) and returns a sentence describing its success.
    /// </summary>
    /// <remarks>With <c>serviceTopics</c> (the request topics the caller needs served), the "Service registered" step
    /// decides by the topics registered services serve (their request channels), whatever service type they registered
    /// under; <c>serviceType</c> then only names what is looked for.</remarks>
    public static async Task<IReadOnlyList<DxlCheckStep>> RunAsync(
        Func<DxlClientConfig> loadConfig,
        string? serviceType,
        Func<DxlClient, CancellationToken, Task<string>>? sampleRequest,
        TimeSpan timeout,
        CancellationToken cancellationToken = default,
        IReadOnlyList<string>? serviceTopics = null)
    {
        var run = new CheckRun(cancellationToken);
        // A step runs only while every earlier one passed, so the values of earlier steps are set when it reads them.
        var config = await run.StepAsync("Configuration", () => Task.FromResult(CheckConfiguration(loadConfig))).ConfigureAwait(false);
        var reachable = await run.StepAsync("TCP", () => CheckTcpAsync(config!, cancellationToken)).ConfigureAwait(false);
        await run.StepAsync("TLS", () => CheckTlsStepAsync(config!, reachable!, cancellationToken)).ConfigureAwait(false);
        DxlClient? client = null;
        try
        {
            client = await run.StepAsync("MQTT connect", () => ConnectAsync(config!, cancellationToken)).ConfigureAwait(false);
            await run.StepAsync("Reply topic", () => CheckReplyTopicAsync(client!, timeout, cancellationToken)).ConfigureAwait(false);
            if (serviceType is not null)
                await run.StepAsync(ServiceRegisteredStep, () => CheckServiceRegisteredAsync(client!, serviceType, serviceTopics, timeout, cancellationToken)).ConfigureAwait(false);
            if (sampleRequest is not null)
                await run.StepAsync("Sample request", () => CheckSampleRequestAsync(client!, sampleRequest, run.Passed(ServiceRegisteredStep), cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            if (client is not null) await client.DisposeAsync().ConfigureAwait(false);
        }
        return run.Steps;
    }

    private const string ServiceRegisteredStep = "Service registered";

    /// <summary>What one step found: the value later steps use, and the row it adds.</summary>
    private readonly record struct StepOutcome<T>(T Value, DxlCheckStatus Status, string Detail, string? Target);

    /// <summary>The steps so far; once one fails, the rest are recorded as Skipped without running.</summary>
    private sealed class CheckRun(CancellationToken cancellationToken)
    {
        private readonly List<DxlCheckStep> _steps = new();
        private bool _failed;

        public IReadOnlyList<DxlCheckStep> Steps => _steps;

        public bool Passed(string name) => _steps.Any(s => s.Name == name && s.Status == DxlCheckStatus.Passed);

        public async Task<T?> StepAsync<T>(string name, Func<Task<StepOutcome<T>>> check)
        {
            if (_failed)
            {
                Add(name, DxlCheckStatus.Skipped, "skipped: an earlier step failed", TimeSpan.Zero, null);
                return default;
            }
            var watch = Stopwatch.StartNew();
            try
            {
                var outcome = await check().ConfigureAwait(false);
                Add(name, outcome.Status, outcome.Detail, watch.Elapsed, outcome.Target);
                _failed = outcome.Status == DxlCheckStatus.Failed;
                return outcome.Value;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The failure is the step's finding: it becomes the row, and the later steps are skipped.
                Add(name, DxlCheckStatus.Failed, e.Message, watch.Elapsed, null);
                _failed = true;
                return default;
            }
        }

        private void Add(string name, DxlCheckStatus status, string detail, TimeSpan elapsed, string? target) =>
            _steps.Add(new DxlCheckStep(_steps.Count + 1, name, status, detail, elapsed, target));
    }

    private static StepOutcome<DxlClientConfig> CheckConfiguration(Func<DxlClientConfig> loadConfig)
    {
        var config = loadConfig();
        var certificate = config.GetClientCertificate();
        var roots = config.GetBrokerCaCertificates();
        var brokers = config.EffectiveBrokers;
        if (brokers.Count == 0) throw new DxlConfigException("No broker is configured.", config.ConfigFilePath, setting: "[Brokers]");
        return new(config, DxlCheckStatus.Passed,
            $"{brokers.Count} broker(s); client certificate {certificate.Subject} (valid until {certificate.NotAfter:yyyy-MM-dd}); {roots.Count} CA certificate(s)",
            config.ConfigFilePath);
    }

    /// <summary>Opens a TCP connection to every broker; the first that answers is the one the next steps use.</summary>
    private static async Task<StepOutcome<DxlBroker?>> CheckTcpAsync(DxlClientConfig config, CancellationToken cancellationToken)
    {
        var results = new List<string>();
        DxlBroker? first = null;
        foreach (var broker in config.EffectiveBrokers)
        {
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, config.BrokerProbeTimeout.TotalSeconds * 3)));
                await socket.ConnectAsync(broker.Host, broker.Port, cts.Token).ConfigureAwait(false);
                first ??= broker;
                results.Add($"{broker}: open");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                results.Add($"{broker}: {(e is OperationCanceledException ? "no answer (filtered or down)" : e.Message)}");
            }
        }
        return new(first, first is null ? DxlCheckStatus.Failed : DxlCheckStatus.Passed, string.Join("; ", results), first?.ToString());
    }

    private static async Task<StepOutcome<bool>> CheckTlsStepAsync(DxlClientConfig config, DxlBroker broker, CancellationToken cancellationToken)
    {
        var detail = await CheckTlsAsync(config, broker, cancellationToken).ConfigureAwait(false);
        return new(true, DxlCheckStatus.Passed, detail, broker.ToString());
    }

    private static async Task<StepOutcome<DxlClient>> ConnectAsync(DxlClientConfig config, CancellationToken cancellationToken)
    {
        var client = new DxlClient(config);
        try
        {
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new(client, DxlCheckStatus.Passed, $"connected as {client.ClientId}", client.CurrentBroker?.ToString());
    }

    private static async Task<StepOutcome<bool>> CheckReplyTopicAsync(DxlClient client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await client.PingReplyTopicAsync(timeout, cancellationToken).ConfigureAwait(false);
        return new(true, DxlCheckStatus.Passed, $"subscribed to {client.ReplyTopic} and received on it", client.ReplyTopic);
    }

    /// <summary>Asks the broker's service registry; by topics when given (every service, judged by its request channels), else by type.</summary>
    private static async Task<StepOutcome<bool>> CheckServiceRegisteredAsync(DxlClient client, string serviceType, IReadOnlyList<string>? serviceTopics,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var byTopics = serviceTopics is { Count: > 0 };
        var query = byTopics ? new Dictionary<string, string>() : new Dictionary<string, string> { ["serviceType"] = serviceType };
        var payload = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(query));
        DxlResponse response;
        try
        {
            response = await client.RequestAsync(new DxlRequest(DxlTopics.ServiceQuery, payload), timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (DxlTimeoutException)
        {
            return new(false, DxlCheckStatus.Warning,
                "the broker did not answer the service-registry query: it is not an OpenDXL broker (plain MQTT?) or the query is not authorised; the sample request decides",
                serviceType);
        }
        if (byTopics)
        {
            var (status, detail) = JudgeServiceTopics(response.PayloadText, serviceTopics!, serviceType);
            return new(status != DxlCheckStatus.Failed, status, detail, serviceType);
        }
        var count = ParseServiceRegistry(response.PayloadText).Count(s => s.ServiceType == serviceType);
        return count > 0
            ? new(true, DxlCheckStatus.Passed, $"{count} instance(s) of {serviceType} registered", serviceType)
            : new(false, DxlCheckStatus.Failed, $"no instance of {serviceType} is registered on the fabric: the service is down or not connected to these brokers", serviceType);
    }

    /// <summary>Runs the caller's sample request; a timeout is explained by whether the service was seen registered.</summary>
    private static async Task<StepOutcome<bool>> CheckSampleRequestAsync(DxlClient client, Func<DxlClient, CancellationToken, Task<string>> sampleRequest,
        bool serviceRegistered, CancellationToken cancellationToken)
    {
        try
        {
            var detail = await sampleRequest(client, cancellationToken).ConfigureAwait(false);
            return new(true, DxlCheckStatus.Passed, detail, null);
        }
        catch (DxlTimeoutException e)
        {
            var why = serviceRegistered
                ? "the service is registered but never answered: this client is most likely not authorised to send on that topic (ePO DXL Topic Authorization), or the service is overloaded"
                : "no answer: the service is down, or this client is not authorised to send on that topic";
            return new(false, DxlCheckStatus.Failed, $"{why}. ({e.Message})", e.Topic);
        }
    }

    /// <summary>
    /// Decides the "Service registered" step by topics: which registered instances serve each of
    /// <paramref name="topics"/> (a request channel equal to the topic, or a trailing-# pattern covering it), and names
    /// them. Passed when one or more instances serve every topic; Warning when some topics are unserved; Failed when
    /// none is. <paramref name="expectedType"/> only words the message (and is preferred when naming instances).
    /// </summary>
    public static (DxlCheckStatus Status, string Detail) JudgeServiceTopics(string registryJson, IReadOnlyList<string> topics, string? expectedType)
    {
        var services = ParseServiceRegistry(registryJson);
        var servedBy = topics.ToDictionary(t => t, t => services.Where(s => s.RequestChannels.Any(c => DxlTopics.Matches(c, t))).ToList(), StringComparer.Ordinal);
        var serving = servedBy.Values.SelectMany(v => v).Distinct()
            .OrderByDescending(s => s.ServiceType == expectedType).ThenBy(s => s.ServiceGuid, StringComparer.Ordinal).ToList();
        var unserved = servedBy.Where(p => p.Value.Count == 0).Select(p => p.Key).ToList();
        var what = expectedType is null ? "the service" : expectedType;
        if (serving.Count == 0)
        {
            var registered = services.Count == 0 ? "no service is registered at all"
                : $"{services.Count} service(s) are registered ({string.Join(", ", services.Select(s => s.ServiceType).Distinct().Take(5))}), none for these topics";
            return (DxlCheckStatus.Failed, $"no registered service serves the topics of {what} ({string.Join(", ", topics)}): {registered}. " +
                                           "The service is down or not connected to these brokers");
        }
        var names = string.Join("; ", serving.Select(s => s.Describe()));
        if (unserved.Count > 0)
            return (DxlCheckStatus.Warning, $"{what}: {topics.Count - unserved.Count} of {topics.Count} topics are served ({names}); no service serves {string.Join(", ", unserved)}");
        var other = expectedType is not null && serving.All(s => s.ServiceType != expectedType) ? $" (registered under another service type than {expectedType})" : "";
        return (DxlCheckStatus.Passed, $"all {topics.Count} topics of {what} are served by {serving.Count} instance(s): {names}{other}");
    }

    /// <summary>A registered service instance, from the broker's service-registry answer.</summary>
    public sealed record DxlRegisteredService(string ServiceGuid, string ServiceType, string? ClientGuid, string? BrokerGuid, IReadOnlyList<string> RequestChannels)
    {
        public string Describe() => $"service {ServiceGuid} (type {ServiceType}" + (ClientGuid is { Length: > 0 } c ? $", client {c}" : "") +
                                    (BrokerGuid is { Length: > 0 } b ? $", on broker {b}" : "") + ")";
    }

    /// <summary>Reads <c>{"services": {guid: {serviceType, requestChannels, clientGuid, brokerGuid, ...}}}</c>; tolerant of missing fields and trailing NUL/whitespace.</summary>
    public static IReadOnlyList<DxlRegisteredService> ParseServiceRegistry(string json)
    {
        using var document = JsonDocument.Parse(json.TrimEnd('\0', '\n', '\r', ' ', '\t'));
        var list = new List<DxlRegisteredService>();
        if (!document.RootElement.TryGetProperty("services", out var services) || services.ValueKind != JsonValueKind.Object) return list;
        foreach (var service in services.EnumerateObject())
        {
            if (service.Value.ValueKind != JsonValueKind.Object) continue;
            string? Text(string name) => service.Value.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var channels = service.Value.TryGetProperty("requestChannels", out var rc) && rc.ValueKind == JsonValueKind.Array
                ? rc.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.String).Select(c => c.GetString()!).ToList()
                : new List<string>();
            list.Add(new DxlRegisteredService(Text("serviceGuid") ?? service.Name, Text("serviceType") ?? "", Text("clientGuid"), Text("brokerGuid"), channels));
        }
        return list;
    }

    /// <summary>A bare TLS handshake with the client certificate, judged by the same validator as the client.</summary>
    private static async Task<string> CheckTlsAsync(DxlClientConfig config, DxlBroker broker, CancellationToken cancellationToken)
    {
        var validator = config.CreateServerCertificateValidator();
        string? rejection = null;
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(broker.Host, broker.Port, cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await using var tls = new SslStream(stream, false, (_, certificate, chain, errors) =>
        {
            if (certificate is null) { rejection = "the broker presented no certificate"; return false; }
            using var cert = new X509Certificate2(certificate);
            rejection = validator.Check(cert, chain, broker.Host, errors);
            return rejection is null;
        });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(config.ConnectTimeout);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = broker.Host,
                ClientCertificates = new X509CertificateCollection { config.GetClientCertificate() },
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            if (rejection is not null) throw new DxlTlsException($"the broker's certificate was rejected: {rejection}", e);
            var text = e.InnerException?.Message ?? e.Message;
            throw new DxlTlsException(text.Contains("frame", StringComparison.OrdinalIgnoreCase)
                ? "the port does not speak TLS (a plaintext MQTT port?)"
                : $"the TLS handshake failed: {text}. If the broker's certificate was accepted, the broker refused this client's certificate: " +
                  config.DescribeClientCertificateForRefusal() + ".", e);
        }
        var remote = tls.RemoteCertificate is { } rc ? new X509Certificate2(rc).Subject : "?";
        return $"{tls.SslProtocol} with {broker}; broker certificate {remote} is trusted by the configured CA bundle";
    }
}
