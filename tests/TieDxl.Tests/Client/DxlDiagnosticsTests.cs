using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Infrastructure;

namespace TieDxl.Tests.Client;

public sealed class DxlDiagnosticsTests(MosquittoEnvironment env) : IClassFixture<MosquittoEnvironment>
{
    [Fact]
    public async Task OnPlainMqttEveryTransportStepPassesAndAnUnansweredSampleIsBlamedOnAuthorisation()
    {
        var steps = await DxlDiagnostics.RunAsync(env.NewConfig, "/mcafee/service/tie",
            async (client, ct) =>
            {
                await client.RequestAsync(new DxlRequest("/tiedxl/test/nobody-home"), TimeSpan.FromMilliseconds(300), ct);
                return "answered";
            },
            TimeSpan.FromMilliseconds(500));

        Assert.Equal(["Configuration", "TCP", "TLS", "MQTT connect", "Reply topic", "Service registered", "Sample request"], steps.Select(s => s.Name));
        Assert.All(steps.Take(5), s => Assert.Equal(DxlCheckStatus.Passed, s.Status));
        Assert.Equal(DxlCheckStatus.Warning, steps[5].Status);
        Assert.Equal(DxlCheckStatus.Failed, steps[6].Status);
        Assert.Contains("authorised", steps[6].Detail);
    }

    [Fact]
    public async Task AnUntrustedBrokerFailsAtTheTlsStepAndSkipsTheRest()
    {
        using var other = DxlTestPki.Create(caName: "Not Our CA");
        var otherFiles = other.WriteClientFiles(Path.Combine(env.Folder, "other-" + Guid.NewGuid().ToString("N")), new() { Port = env.Broker.Port });

        var steps = await DxlDiagnostics.RunAsync(() => Dxl.Config.DxlClientConfig.Load(otherFiles.ConfigPath), null, null, TimeSpan.FromSeconds(1));

        Assert.Equal(DxlCheckStatus.Passed, steps[1].Status);
        Assert.Equal("TLS", steps[2].Name);
        Assert.Equal(DxlCheckStatus.Failed, steps[2].Status);
        Assert.Contains("not", steps[2].Detail);
        Assert.All(steps.Skip(3), s => Assert.Equal(DxlCheckStatus.Skipped, s.Status));
    }

    [Fact]
    public async Task AMissingConfigFileFailsAtTheFirstStepNamingTheFile()
    {
        var path = Path.Combine(env.Folder, "no-such-dxlclient.config");
        var steps = await DxlDiagnostics.RunAsync(() => Dxl.Config.DxlClientConfig.Load(path), null, null, TimeSpan.FromSeconds(1));
        Assert.Equal(DxlCheckStatus.Failed, steps[0].Status);
        Assert.Contains("no-such-dxlclient.config", steps[0].Detail);
    }
}
