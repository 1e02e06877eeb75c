using TieDxl.Dxl.Config;
using TieDxl.Dxl.Messages;
using TieDxl.Dxl.Services;

namespace TieDxl.Dxl.Client;

public enum DxlConnectionState { Disconnected, Connecting, Connected, Reconnecting, Closed }

/// <summary>
/// A DXL client over MQTTnet: MQTT 3.1.1, clean session, QoS 0, mutual TLS. Many requests in flight on one
/// connection; events; hosted services. Incoming messages are dispatched off the MQTT receive loop.
/// </summary>
public sealed partial class DxlClient : IAsyncDisposable
{
    /// <summary>The broker drops envelopes over this size (messageSizeLimit, 1 MiB).</summary>
    public const int MaxMessageSize = 1_048_576;

    public DxlClient(DxlClientConfig config, DxlLogSink? log = null) => throw new NotImplementedException();

    public DxlClientConfig Config => throw new NotImplementedException();
    public string ClientId => throw new NotImplementedException();
    /// <summary><c>/mcafee/client/{ClientId}</c>.</summary>
    public string ReplyTopic => throw new NotImplementedException();
    public DxlConnectionState State => throw new NotImplementedException();
    public bool IsConnected => throw new NotImplementedException();
    /// <summary>The broker of the live connection, or null.</summary>
    public DxlBroker? CurrentBroker => throw new NotImplementedException();

    /// <summary>Raised on every state change (from a thread-pool thread).</summary>
#pragma warning disable CS0067 // stub until implemented
    public event EventHandler<DxlConnectionState>? StateChanged;
#pragma warning restore CS0067

    /// <summary>Probes and orders the brokers, connects, subscribes the reply topic. Throws DxlConnectionException/DxlTlsException.</summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Unregisters services, flushes queued publishes, unsubscribes, disconnects.</summary>
    public Task DisconnectAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();

    /// <summary>
    /// Sends a request and awaits its response. An error response throws <see cref="DxlErrorResponseException"/>,
    /// no answer in time throws <see cref="DxlTimeoutException"/>, a lost connection fails at once with
    /// <see cref="DxlConnectionException"/>.
    /// </summary>
    public Task<DxlResponse> RequestAsync(DxlRequest request, TimeSpan timeout, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Publishes an event; completes when the bytes were handed to the connection. Fails if not connected.</summary>
    public Task SendEventAsync(DxlEvent dxlEvent, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Publishes a response or error response (service side).</summary>
    public Task SendResponseAsync(DxlResponse response, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>
    /// Subscribes <paramref name="callback"/> to a topic (DXL wildcard: trailing <c>#</c>). Disposing the result
    /// removes the callback; the MQTT subscription goes when its last callback does.
    /// </summary>
    public Task<IAsyncDisposable> SubscribeAsync(string topic, Func<DxlEvent, Task> callback, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Hosts a service: subscribes its topics, registers it with the broker, refreshes before its TTL.</summary>
    public Task RegisterServiceAsync(DxlService service, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Unregisters the service and unsubscribes its topics.</summary>
    public Task UnregisterServiceAsync(DxlService service, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
