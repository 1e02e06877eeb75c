using System.Collections.Concurrent;
using System.Text.Json;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;

namespace TieDxl.Dxl.Client;

/// <summary>
/// The services a client hosts: their registration with the broker (sent again before each TTL runs out and after
/// every reconnect), and the answers to the requests they receive.
/// </summary>
internal sealed class DxlServiceHost(DxlClientConnection connection, DxlSubscriptions subscriptions,
    Func<DxlRequest, TimeSpan, CancellationToken, Task<DxlResponse>> requestAsync, DxlLogSink log)
{
    private static readonly TimeSpan RegisterTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, HostedService> _services = new(StringComparer.Ordinal);

    private sealed class HostedService(DxlService service)
    {
        public DxlService Service { get; } = service;
        public CancellationTokenSource RefreshStop { get; } = new();
    }

    private string ClientId => connection.ClientId;

    /// <summary>See <see cref="DxlClient.RegisterServiceAsync"/>.</summary>
    public async Task RegisterAsync(DxlService service, TimeSpan? acknowledgementTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (service.Handlers.Count == 0) throw new ArgumentException("A service needs at least one request topic.", nameof(service));
        var hosted = new HostedService(service);
        if (!_services.TryAdd(service.ServiceGuid, hosted))
            throw new InvalidOperationException($"Service {service.ServiceGuid} is already registered on this client.");

        await connection.Writer.SubscribeAsync(subscriptions.AddServiceTopics(service.Handlers.Keys), cancellationToken).ConfigureAwait(false);
        if (connection.Writer.IsConnected)
        {
            if (acknowledgementTimeout is { } wait)
            {
                try
                {
                    await requestAsync(new DxlRequest(DxlTopics.ServiceRegister, RegistrationJson(service)), wait, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await UnregisterAsync(service, CancellationToken.None).ConfigureAwait(false);
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

    public async Task UnregisterAsync(DxlService service, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!_services.TryRemove(service.ServiceGuid, out var hosted)) return;
        hosted.RefreshStop.Cancel();
        if (connection.Writer.IsConnected) await SendUnregistrationAsync(service, cancellationToken).ConfigureAwait(false);
        foreach (var topic in subscriptions.RemoveServiceTopics(service.Handlers.Keys))
            await connection.Writer.UnsubscribeAsync(topic, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After every (re)connect: the broker forgot the registrations with the connection.</summary>
    public void RegisterAll()
    {
        foreach (var hosted in _services.Values) SendRegistrationInBackground(hosted.Service);
    }

    /// <summary>A goodbye: every service unregisters and stops refreshing.</summary>
    public async Task UnregisterAllAsync(CancellationToken cancellationToken)
    {
        foreach (var hosted in _services.Values)
        {
            hosted.RefreshStop.Cancel();
            await SendUnregistrationAsync(hosted.Service, cancellationToken).ConfigureAwait(false);
        }
    }

    public void StopRefreshing()
    {
        foreach (var hosted in _services.Values) hosted.RefreshStop.Cancel();
    }

    private void SendRegistrationInBackground(DxlService service) => _ = SendRegistrationLoggedAsync(service);

    private async Task SendRegistrationLoggedAsync(DxlService service)
    {
        try
        {
            // An error response surfaces here (the Python client only logs it and lets the caller time out).
            await requestAsync(new DxlRequest(DxlTopics.ServiceRegister, RegistrationJson(service)), RegisterTimeout, connection.Lifetime).ConfigureAwait(false);
            log(DxlLogLevel.Debug, $"DXL client {ClientId}: registered service {service.ServiceType} {service.ServiceGuid}");
        }
        catch (DxlTimeoutException)
        {
            log(DxlLogLevel.Debug, $"DXL client {ClientId}: no acknowledgement for service {service.ServiceGuid} (a plain MQTT broker does not answer)");
        }
        catch (Exception e) when (e is DxlException or OperationCanceledException)
        {
            log(DxlLogLevel.Warning, $"DXL client {ClientId}: registering service {service.ServiceGuid} failed: {e.Message}");
        }
    }

    /// <summary>The broker expires a registration after TTL + grace; re-send it every TTL.</summary>
    private async Task RefreshRegistrationAsync(HostedService hosted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hosted.RefreshStop.Token, connection.Lifetime);
        while (!linked.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(hosted.Service.Ttl, linked.Token).ConfigureAwait(false);
                if (connection.Writer.IsConnected) SendRegistrationInBackground(hosted.Service);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SendUnregistrationAsync(DxlService service, CancellationToken cancellationToken)
    {
        var json = WriteJson(w => w.WriteString("serviceGuid", service.ServiceGuid));
        // Sent, not awaited: the broker handles it before the DISCONNECT that may follow on the same connection,
        // and a plain MQTT broker never answers.
        try
        {
            await connection.Writer.PublishAsync(new DxlRequest(DxlTopics.ServiceUnregister, json) { ReplyToTopic = subscriptions.ReplyTopic }, cancellationToken).ConfigureAwait(false);
        }
        catch (DxlException e)
        {
            log(DxlLogLevel.Warning, $"DXL client {ClientId}: unregistering service {service.ServiceGuid} failed: {e.Message}");
        }
    }

    /// <summary>The registration record the broker expects, keys in the Python client's order.</summary>
    internal static byte[] RegistrationJson(DxlService service) => WriteJson(json =>
    {
        json.WriteString("serviceType", service.ServiceType);
        json.WriteStartObject("metaData");
        foreach (var (key, value) in service.Metadata) json.WriteString(key, value);
        json.WriteEndObject();
        json.WriteStartArray("requestChannels");
        foreach (var topic in service.Handlers.Keys) json.WriteStringValue(topic);
        json.WriteEndArray();
        json.WriteNumber("ttlMins", Math.Max(1, (long)Math.Ceiling(service.Ttl.TotalMinutes)));
        json.WriteString("serviceGuid", service.ServiceGuid);
    });

    private static byte[] WriteJson(Action<Utf8JsonWriter> writeProperties)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            writeProperties(json);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Answers a request that arrived on a service topic (off the MQTT receive loop).</summary>
    public async Task HandleRequestAsync(DxlRequest request)
    {
        try
        {
            if (string.IsNullOrEmpty(request.ServiceId))
            {
                foreach (var hosted in _services.Values)
                    await InvokeHandlerAsync(hosted.Service, request).ConfigureAwait(false);
            }
            else if (_services.TryGetValue(request.ServiceId, out var target))
            {
                await InvokeHandlerAsync(target.Service, request).ConfigureAwait(false);
            }
            else
            {
                // Tells the broker to drop a stale registration.
                await connection.Writer.PublishAsync(new DxlErrorResponse(request, DxlErrorCodes.ServiceNotFound, DxlErrorCodes.ServiceNotFoundMessage), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            log(DxlLogLevel.Warning, $"DXL client {ClientId}: could not answer request {request.MessageId} on '{request.DestinationTopic}': {e.Message}");
        }
    }

    private async Task InvokeHandlerAsync(DxlService service, DxlRequest request)
    {
        var handler = FindHandler(service, request.DestinationTopic);
        if (handler is null) return;
        DxlResponse? response;
        try
        {
            response = await handler(request, connection.Lifetime).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (connection.Lifetime.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            response = new DxlErrorResponse(request, 0, e.Message);
        }
        if (response is not null) await connection.Writer.PublishAsync(response, CancellationToken.None).ConfigureAwait(false);
    }

    private static DxlRequestHandler? FindHandler(DxlService service, string topic)
    {
        if (service.Handlers.TryGetValue(topic, out var exact)) return exact;
        foreach (var pattern in DxlTopics.WildcardPatterns(topic))
            if (service.Handlers.TryGetValue(pattern, out var wild)) return wild;
        return null;
    }
}
