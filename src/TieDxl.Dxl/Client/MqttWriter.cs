using System.Buffers;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using TieDxl.Dxl.Messages;

namespace TieDxl.Dxl.Client;

/// <summary>
/// Everything written to the MQTT connection: envelopes at QoS 0, subscriptions, pings. A write is started without
/// the caller's token and only the wait is cancellable: MQTTnet aborts a cancelled write mid-packet, and half a TLS
/// record on the shared connection breaks it for every other request (the broker answers with a bad_record_mac
/// alert). Counts the publishes still being written, so a goodbye can flush them.
/// </summary>
internal sealed class MqttWriter(IMqttClient mqtt, string clientId, DxlLogSink log)
{
    /// <summary>The broker drops envelopes over this size (its messageSizeLimit, 1 MiB).</summary>
    public const int MaxMessageSize = 1_048_576;

    private readonly AsyncAutoResetSignal _publishesDrained = new();
    private int _publishesInFlight;

    public bool IsConnected => mqtt.IsConnected;

    /// <summary>Publishes an envelope at QoS 0, refusing oversize messages and wildcard topics before sending.</summary>
    public async Task PublishAsync(DxlMessage message, CancellationToken cancellationToken)
    {
        var topic = message.DestinationTopic;
        if (!DxlTopics.IsPublishable(topic))
            throw new ArgumentException($"Cannot publish to '{topic}': a DXL topic must be non-empty and contain no '+' or '#'.", nameof(message));
        // Encoded into a pooled array, returned once the write has ended: MQTTnet copies the packet into its own
        // send buffer (fragmentation is off) and keeps no reference to a QoS 0 payload after the write.
        var (buffer, length) = EncodePooled(message);
        if (length > MaxMessageSize)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new DxlPayloadTooLargeException(topic, length, MaxMessageSize);
        }
        if (!mqtt.IsConnected)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new DxlConnectionException($"Not connected to a DXL broker: the message for '{topic}' was not sent.");
        }
        if (cancellationToken.IsCancellationRequested)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            cancellationToken.ThrowIfCancellationRequested();
        }

        var applicationMessage = new MqttApplicationMessage
        {
            Topic = topic,
            PayloadSegment = new ArraySegment<byte>(buffer, 0, length),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtMostOnce,
            Retain = false,
        };
        var write = StartPublish(applicationMessage, topic, buffer);
        try
        {
            await AwaitWriteAsync(write, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            throw new DxlConnectionException($"The message for '{topic}' could not be sent: {e.Message}", e);
        }
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_scratch;

    private static (byte[] Buffer, int Length) EncodePooled(DxlMessage message)
    {
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(1024);
        try
        {
            DxlEnvelope.EncodeTo(message, scratch);
            var rented = ArrayPool<byte>.Shared.Rent(scratch.WrittenCount);
            scratch.WrittenSpan.CopyTo(rented);
            return (rented, scratch.WrittenCount);
        }
        finally
        {
            // A rare huge message must not keep its buffer alive on this thread.
            if (scratch.Capacity > 64 * 1024) t_scratch = null;
            else scratch.ResetWrittenCount();
        }
    }

    private Task StartPublish(MqttApplicationMessage message, string topic, byte[] pooled)
    {
        Interlocked.Increment(ref _publishesInFlight);
        Task write;
        try
        {
            // MQTTnet throws some failures (not connected, disposed) from the call itself, not through the task.
            write = mqtt.PublishAsync(message, CancellationToken.None);
        }
        catch (Exception e)
        {
            PublishEnded(pooled);
            if (IsConnectionFailure(e))
                throw new DxlConnectionException($"The message for '{topic}' could not be sent: {e.Message}", e);
            throw;
        }
        // Counted until the write itself ends, even when the caller stopped waiting for it. Most writes complete at once.
        if (write.IsCompleted) PublishEnded(pooled);
        else _ = write.ContinueWith(static (_, state) =>
            {
                var (writer, buffer) = ((MqttWriter, byte[]))state!;
                writer.PublishEnded(buffer);
            }, (this, pooled), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return write;
    }

    private void PublishEnded(byte[] pooled)
    {
        ArrayPool<byte>.Shared.Return(pooled);
        if (Interlocked.Decrement(ref _publishesInFlight) == 0) _publishesDrained.Set();
    }

    /// <summary>Waits until every publish started so far has been written (or failed).</summary>
    public async Task WaitForPublishesAsync(CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _publishesInFlight) > 0)
            await _publishesDrained.WaitAsync(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Subscribes topic filters at QoS 0; nothing to do while disconnected (the next connect subscribes everything).</summary>
    public async Task SubscribeAsync(IReadOnlyCollection<string> topics, CancellationToken cancellationToken)
    {
        if (topics.Count == 0 || !mqtt.IsConnected) return;
        var builder = new MqttClientSubscribeOptionsBuilder();
        Task<MqttClientSubscribeResult> subscribe;
        foreach (var topic in topics) builder.WithTopicFilter(topic, MqttQualityOfServiceLevel.AtMostOnce);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            subscribe = mqtt.SubscribeAsync(builder.Build(), CancellationToken.None);
            await AwaitWriteAsync(subscribe, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException)
        {
            throw new DxlConnectionException($"Could not subscribe to '{string.Join("', '", topics)}': {e.Message}", e);
        }
        // The SUBACK grants a QoS per topic or refuses it (0x80 and above: e.g. an ACL denies the topic).
        var refused = subscribe.Result.Items
            .Where(item => item.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2)
            .Select(item => item.TopicFilter.Topic).ToList();
        if (refused.Count > 0) throw new DxlSubscriptionRefusedException(refused);
    }

    /// <summary>Unsubscribes a topic filter; a failure is only logged (the subscription dies with the connection anyway).</summary>
    public async Task UnsubscribeAsync(string topic, CancellationToken cancellationToken)
    {
        if (!mqtt.IsConnected) return;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var options = new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(topic).Build();
            await AwaitWriteAsync(mqtt.UnsubscribeAsync(options, CancellationToken.None), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException)
        {
            log(DxlLogLevel.Debug, $"DXL client {clientId}: unsubscribe '{topic}': {e.Message}");
        }
    }

    /// <summary>Starts one MQTT ping (never cancelled mid-packet); the caller bounds the wait.</summary>
    public Task StartPing() => mqtt.PingAsync(CancellationToken.None);

    /// <summary>
    /// Waits for a write that was started without the caller's token. The caller's token only abandons the wait:
    /// the write finishes in the background (a subscribe within MQTTnet's own timeout, a publish when the socket
    /// takes it or the connection fails), and a failure after that is observed and dropped.
    /// </summary>
    public static async Task AwaitWriteAsync(Task write, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled || write.IsCompleted)
        {
            await write.ConfigureAwait(false);
            return;
        }
        try
        {
            await write.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ObserveFailure(write);
            throw;
        }
    }

    /// <summary>Marks a task whose failure nobody waits for as observed, so it never reaches UnobservedTaskException.</summary>
    public static void ObserveFailure(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>A disconnect that never throws (its failure is only logged: the connection is being dropped anyway).</summary>
    public async Task DisconnectQuietlyAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (mqtt.IsConnected)
                await mqtt.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            log(DxlLogLevel.Debug, $"DXL client {clientId}: MQTT disconnect: {e.Message}");
        }
    }

    public static bool IsConnectionFailure(Exception e) =>
        e is MqttCommunicationException or InvalidOperationException or ObjectDisposedException or IOException;
}

/// <summary>A tiny async signal; hand-written because nothing in the runtime offers an awaitable auto-reset event.</summary>
internal sealed class AsyncAutoResetSignal
{
    private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Interlocked.Exchange(ref _tcs, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task WaitAsync(TimeSpan max, CancellationToken cancellationToken)
    {
        try { await Volatile.Read(ref _tcs).Task.WaitAsync(max, cancellationToken).ConfigureAwait(false); }
        catch (TimeoutException) { /* a bounded wait: the caller looks at its counter again */ }
    }
}
