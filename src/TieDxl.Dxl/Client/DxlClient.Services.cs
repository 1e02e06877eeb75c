using System.Collections.Concurrent;
using System.Text.Json;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;

namespace TieDxl.Dxl.Client;

public sealed partial class DxlClient
{
    public const string ServiceRegisterTopic = "/mcafee/service/dxl/svcregistry/register";
    public const string ServiceUnregisterTopic = "/mcafee/service/dxl/svcregistry/unregister";
    private static readonly TimeSpan RegisterTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, HostedService> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _serviceTopicRefs = new(StringComparer.Ordinal);

    private sealed class HostedService(DxlService service)
    {
        public DxlService Service { get; } = service;
        public CancellationTokenSource RefreshStop { get; } = new();
    }

    /// <summary>
    /// Hosts a service: subscribes its topics, registers it with the broker, refreshes before its TTL.
    /// With <paramref name="acknowledgementTimeout"/> it waits for the broker's acknowledgement and throws on an
    /// error response or no answer; without, it returns once the registration is sent (a plain MQTT broker such
    /// as mosquitto never answers) and logs what the broker says.
    /// </summary>
    public async Task RegisterServiceAsync(DxlService service, CancellationToken cancellationToken = default, TimeSpan? acknowledgementTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (service.Handlers.Count == 0) throw new ArgumentException("A service needs at least one request topic.", nameof(service));
        var hosted = new HostedService(service);
        if (!_services.TryAdd(service.ServiceGuid, hosted))
            throw new InvalidOperationException($"Service {service.ServiceGuid} is already registered on this client.");

        var toSubscribe = new List<string>();
        lock (_subscriptionLock)
        {
            foreach (var topic in service.Handlers.Keys)
            {
                _serviceTopicRefs.TryGetValue(topic, out var count);
                _serviceTopicRefs[topic] = count + 1;
                if (count == 0 && !_eventSubscriptions.ContainsKey(topic)) toSubscribe.Add(topic);
            }
        }
        foreach (var topic in toSubscribe) await MqttSubscribeAsync(topic, cancellationToken).ConfigureAwait(false);
        if (_mqtt.IsConnected)
        {
            if (acknowledgementTimeout is { } wait)
            {
                try
                {
                    await RequestAsync(new DxlRequest(ServiceRegisterTopic, RegistrationJson(service)), wait, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await UnregisterServiceAsync(service, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
            }
            else
            {
                SendRegistrationInBackground(service);
            }
        }
        _ = RefreshRegistrationAsync(hosted);
    }

    /// <summary>Unregisters the service and unsubscribes its topics.</summary>
    public async Task UnregisterServiceAsync(DxlService service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!_services.TryRemove(service.ServiceGuid, out var hosted)) return;
        hosted.RefreshStop.Cancel();
        if (_mqtt.IsConnected) await SendUnregistrationAsync(service, cancellationToken).ConfigureAwait(false);
        var toUnsubscribe = new List<string>();
        lock (_subscriptionLock)
        {
            foreach (var topic in service.Handlers.Keys)
            {
                if (!_serviceTopicRefs.TryGetValue(topic, out var count)) continue;
                if (count <= 1)
                {
                    _serviceTopicRefs.Remove(topic);
                    if (!_eventSubscriptions.ContainsKey(topic)) toUnsubscribe.Add(topic);
                }
                else _serviceTopicRefs[topic] = count - 1;
            }
        }
        foreach (var topic in toUnsubscribe) await MqttUnsubscribeAsync(topic, cancellationToken).ConfigureAwait(false);
    }

    private void RegisterAllServices()
    {
        foreach (var hosted in _services.Values) SendRegistrationInBackground(hosted.Service);
    }

    private void SendRegistrationInBackground(DxlService service) => _ = SendRegistrationLoggedAsync(service);

    private async Task SendRegistrationLoggedAsync(DxlService service)
    {
        try
        {
            await SendRegistrationAsync(service, _lifetime.Token).ConfigureAwait(false);
        }
        catch (DxlTimeoutException)
        {
            _log(DxlLogLevel.Debug, $"DXL client {ClientId}: no acknowledgement for service {service.ServiceGuid} (a plain MQTT broker does not answer)");
        }
        catch (Exception e) when (e is DxlException or OperationCanceledException)
        {
            _log(DxlLogLevel.Warning, $"DXL client {ClientId}: registering service {service.ServiceGuid} failed: {e.Message}");
        }
    }

    private async Task UnregisterAllServicesAsync(CancellationToken cancellationToken)
    {
        foreach (var hosted in _services.Values)
        {
            hosted.RefreshStop.Cancel();
            await SendUnregistrationAsync(hosted.Service, cancellationToken).ConfigureAwait(false);
        }
    }

    private void StopServiceTimers()
    {
        foreach (var hosted in _services.Values) hosted.RefreshStop.Cancel();
    }

    /// <summary>The broker expires a registration after TTL + grace; re-send it every TTL.</summary>
    private async Task RefreshRegistrationAsync(HostedService hosted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hosted.RefreshStop.Token, _lifetime.Token);
        while (!linked.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(hosted.Service.Ttl, linked.Token).ConfigureAwait(false);
                if (_mqtt.IsConnected) SendRegistrationInBackground(hosted.Service);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                _log(DxlLogLevel.Warning, $"DXL client {ClientId}: refreshing service {hosted.Service.ServiceGuid} failed: {e.Message}");
            }
        }
    }

    private async Task SendRegistrationAsync(DxlService service, CancellationToken cancellationToken)
    {
        var request = new DxlRequest(ServiceRegisterTopic, RegistrationJson(service));
        // An error response surfaces here (the Python client only logs it and lets the caller time out).
        await RequestAsync(request, RegisterTimeout, cancellationToken).ConfigureAwait(false);
        _log(DxlLogLevel.Debug, $"DXL client {ClientId}: registered service {service.ServiceType} {service.ServiceGuid}");
    }

    private async Task SendUnregistrationAsync(DxlService service, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("serviceGuid", service.ServiceGuid);
            json.WriteEndObject();
        }
        // Sent, not awaited: the broker handles it before the DISCONNECT that may follow on the same connection,
        // and a plain MQTT broker never answers.
        try
        {
            await PublishAsync(new DxlRequest(ServiceUnregisterTopic, buffer.ToArray()) { ReplyToTopic = ReplyTopic }, cancellationToken).ConfigureAwait(false);
        }
        catch (DxlException e)
        {
            _log(DxlLogLevel.Warning, $"DXL client {ClientId}: unregistering service {service.ServiceGuid} failed: {e.Message}");
        }
    }

    /// <summary>The registration record the broker expects, keys in the Python client's order.</summary>
    internal static byte[] RegistrationJson(DxlService service)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("serviceType", service.ServiceType);
            json.WriteStartObject("metaData");
            foreach (var (key, value) in service.Metadata) json.WriteString(key, value);
            json.WriteEndObject();
            json.WriteStartArray("requestChannels");
            foreach (var topic in service.Handlers.Keys) json.WriteStringValue(topic);
            json.WriteEndArray();
            json.WriteNumber("ttlMins", Math.Max(1, (long)Math.Ceiling(service.Ttl.TotalMinutes)));
            json.WriteString("serviceGuid", service.ServiceGuid);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private async Task HandleRequestAsync(DxlRequest request)
    {
        try
        {
            if (!string.IsNullOrEmpty(request.ServiceId))
            {
                if (_services.TryGetValue(request.ServiceId, out var target))
                {
                    await InvokeHandlerAsync(target.Service, request).ConfigureAwait(false);
                }
                else
                {
                    // Tells the broker to drop a stale registration.
                    await SendResponseAsync(new DxlErrorResponse(request, DxlErrorCodes.ServiceNotFound, DxlErrorCodes.ServiceNotFoundMessage)).ConfigureAwait(false);
                }
                return;
            }
            foreach (var hosted in _services.Values)
                await InvokeHandlerAsync(hosted.Service, request).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log(DxlLogLevel.Warning, $"DXL client {ClientId}: could not answer request {request.MessageId} on '{request.DestinationTopic}': {e.Message}");
        }
    }

    private async Task InvokeHandlerAsync(DxlService service, DxlRequest request)
    {
        var handler = FindHandler(service, request.DestinationTopic);
        if (handler is null) return;
        DxlResponse? response;
        try
        {
            response = await handler(request, _lifetime.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            response = new DxlErrorResponse(request, 0, e.Message);
        }
        if (response is not null) await SendResponseAsync(response).ConfigureAwait(false);
    }

    private static DxlRequestHandler? FindHandler(DxlService service, string topic)
    {
        if (service.Handlers.TryGetValue(topic, out var exact)) return exact;
        foreach (var pattern in DxlTopics.WildcardPatterns(topic))
            if (service.Handlers.TryGetValue(pattern, out var wild)) return wild;
        return null;
    }
}
