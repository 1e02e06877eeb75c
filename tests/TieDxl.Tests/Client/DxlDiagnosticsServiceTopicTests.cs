using TieDxl.Dxl.Client;
using TieDxl.Fabric;
using TieDxl.Fabric.Simulator;
using TieDxl.Tie;

namespace TieDxl.Tests.Client;

/// <summary>The service check decides by the topics registered services serve, not by the service type they registered under.</summary>
public sealed class DxlDiagnosticsServiceTopicTests
{
    private static readonly string[] Topics = ["/svc/a/one", "/svc/a/two"];

    private const string Registry = """
        {"services": {
          "g1": {"serviceType": "/vendor/other", "serviceGuid": "g1", "clientGuid": "c1", "brokerGuid": "b1", "requestChannels": ["/svc/a/one", "/svc/a/two"]},
          "g2": {"serviceType": "/unrelated", "serviceGuid": "g2", "requestChannels": ["/elsewhere"]}
        }}
        """;

    [Fact]
    public void ServedTopicsPassAndNameTheInstanceEvenUnderAnotherServiceType()
    {
        var (status, detail) = DxlDiagnostics.JudgeServiceTopics(Registry + "\0\n", Topics, "/svc/a");
        Assert.Equal(DxlCheckStatus.Passed, status);
        Assert.Contains("service g1 (type /vendor/other, client c1, on broker b1)", detail);
        Assert.Contains("another service type", detail);
        Assert.DoesNotContain("g2", detail);
    }

    [Fact]
    public void AWildcardChannelServesTheTopicsBelowIt()
    {
        var registry = """{"services": {"w": {"serviceType": "/svc/a", "serviceGuid": "w", "requestChannels": ["/svc/a/#"]}}}""";
        var (status, detail) = DxlDiagnostics.JudgeServiceTopics(registry, Topics, "/svc/a");
        Assert.Equal(DxlCheckStatus.Passed, status);
        Assert.Contains("service w", detail);
    }

    [Fact]
    public void SomeTopicsUnservedIsAWarningNamingThem()
    {
        var registry = """{"services": {"p": {"serviceType": "/svc/a", "serviceGuid": "p", "requestChannels": ["/svc/a/one"]}}}""";
        var (status, detail) = DxlDiagnostics.JudgeServiceTopics(registry, Topics, "/svc/a");
        Assert.Equal(DxlCheckStatus.Warning, status);
        Assert.Contains("1 of 2", detail);
        Assert.Contains("/svc/a/two", detail);
    }

    [Fact]
    public void NoServiceForTheTopicsFailsAndSaysWhatIsRegistered()
    {
        var (status, detail) = DxlDiagnostics.JudgeServiceTopics("""{"services": {"g2": {"serviceType": "/unrelated", "requestChannels": ["/elsewhere"]}}}""", Topics, "/svc/a");
        Assert.Equal(DxlCheckStatus.Failed, status);
        Assert.Contains("/unrelated", detail);
        Assert.Equal(DxlCheckStatus.Failed, DxlDiagnostics.JudgeServiceTopics("""{"services": {}}""", Topics, "/svc/a").Status);
    }

    [Fact]
    public async Task ATieServiceRegisteredUnderAnotherTypeOnTheEmbeddedFabricPassesTheCheck()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        await using var serviceClient = new DxlClient(fabric.NewClientConfig());
        await serviceClient.ConnectAsync();
        await using var simulator = new TieSimulator(serviceClient, new TieSimulatorOptions
        {
            ServiceType = "/vendor/tie-compatible",
            RegistrationAcknowledgementTimeout = TimeSpan.FromSeconds(10),
        });
        await simulator.StartAsync();

        var steps = await DxlDiagnostics.RunAsync(fabric.NewClientConfig, TieTopics.ServiceType, null, TimeSpan.FromSeconds(5),
            serviceTopics: TieTopics.RequestTopics);

        var check = Assert.Single(steps, s => s.Name == "Service registered");
        Assert.Equal(DxlCheckStatus.Passed, check.Status);
        Assert.Contains(simulator.Service.ServiceGuid, check.Detail);
        Assert.Contains("/vendor/tie-compatible", check.Detail);
    }
}
