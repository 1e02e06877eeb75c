using System.Net;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Provisioning;
using TieDxl.Fabric;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Config;
using TieDxl.Tests.Infrastructure;
using static TieDxl.Tests.Provisioning.ProvisioningTestKit;

namespace TieDxl.Tests.Provisioning;

/// <summary>The cases the reference CLI's own tests pin down, held to the same bytes.</summary>
public sealed class ReferenceCliCompatibilityTests
{
    private static string Guid(int i) => "{" + new System.Guid($"00000000-0000-0000-0000-{i:D12}").ToString("D") + "}";
    private static DxlBroker Broker(int i) => new(Guid(i), $"broker{i}", 8880 + i, $"10.10.100.{i}");
    private static string Line(int i) => $"{Guid(i)} = {Guid(i)};888{i};broker{i};10.10.100.{i}";

    [Fact]
    public void UpdateKeepsTheCommentOfARemainingBrokerAndDropsARetiredOneWithItsComment()
    {
        using var pki = DxlTestPki.Create();
        using var folder = new TempFolder();
        folder.Write("mycabundle.pem", "old ca");
        var head = "[Certs]\n# Truststore client uses to validate broker\nBrokerCertChain = mycabundle.pem\n# Client's certificate\nCertFile = client.crt\n" +
                   "# Client's private key\nPrivateKey = client.key\n\n# Brokers client could connect to\n[Brokers]\n";
        var path = folder.Write("dxlclient.config", head + $"# This is broker 1\n{Line(1)}\n# This is broker 2\n{Line(2)}\n");
        var bundle = pki.Ca.CertificatePem() + pki.Client.CertificatePem();

        var plan = DxlClientConfigUpdater.Plan(path, bundle, new EpoBrokerList(new[] { Broker(2), Broker(3), Broker(4) }, Array.Empty<DxlBroker>(), 0));
        DxlClientConfigUpdater.Apply(plan);

        Assert.Equal(head + $"# This is broker 2\n{Line(2)}\n{Line(3)}\n{Line(4)}\n", File.ReadAllText(path));
        Assert.Equal(bundle, File.ReadAllText(folder.Combine("mycabundle.pem")));
    }
}

[CollectionDefinition(nameof(ProcessWideProxy), DisableParallelization = true)]
public sealed class ProcessWideProxy;

/// <summary>Changes the process's default proxy, so it runs alone.</summary>
[Collection(nameof(ProcessWideProxy))]
public sealed class EpoClientDefaultProxyTests
{
    [Fact]
    public async Task WithoutAnExplicitProxyTheProcessDefaultIsUsedTheOneThatReadsHttpsProxy()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        using var proxy = new ConnectProxy();
        var saved = HttpClient.DefaultProxy;
        HttpClient.DefaultProxy = new WebProxy($"http://127.0.0.1:{proxy.Port}") { BypassProxyOnLocal = false };
        try
        {
            using var epo = ClientFor(fabric);
            await epo.GetCaBundleAsync();
        }
        finally
        {
            HttpClient.DefaultProxy = saved;
        }

        Assert.Equal(1, proxy.Tunnels);
    }
}
