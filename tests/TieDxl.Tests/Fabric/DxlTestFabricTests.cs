using TieDxl.Dxl;
using TieDxl.Dxl.Client;
using TieDxl.Dxl.Messages;
using TieDxl.Fabric;
using TieDxl.Fabric.Simulator;
using TieDxl.Tie;

namespace TieDxl.Tests.Fabric;

/// <summary>The embedded fabric as users get it: broker, PKI, config file and TIE simulator in one call.</summary>
public sealed class DxlTestFabricTests
{
    [Fact]
    public async Task TheGeneratedConfigIsUsedAsIsByAFreshClientThatLooksUpAFile()
    {
        await using var fabric = await DxlTestFabric.StartAsync();
        await using var client = new DxlClient(Dxl.Config.DxlClientConfig.Load(fabric.ConfigPath));
        await client.ConnectAsync();
        var tie = new TieClient(client);

        var result = await tie.GetFileReputationAsync(TieHashes.Create(TieSimulatorSeed.NotepadMd5, TieSimulatorSeed.NotepadSha1, TieSimulatorSeed.NotepadSha256));

        Assert.Equal(TrustLevel.KnownTrusted, result.Gti!.TrustLevel);
        Assert.True(result.HasDefinitiveNonExternalReputation);
        Assert.Equal(fabric.Port, client.CurrentBroker!.Port);
    }

    [Fact]
    public async Task WithoutTheSimulatorATieRequestGetsTheBrokersServiceNotFoundError()
    {
        await using var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        await using var client = new DxlClient(fabric.NewClientConfig());
        await client.ConnectAsync();

        var error = await Assert.ThrowsAsync<DxlErrorResponseException>(() =>
            client.RequestAsync(new DxlRequest(TieTopics.FileReputation, "{}"u8.ToArray()), TimeSpan.FromSeconds(5)));

        Assert.True(error.IsServiceNotFound);
        Assert.Equal(DxlErrorCodes.ServiceNotFoundMessage, error.ErrorMessage);
    }

    [Fact]
    public async Task StoppingTheFabricRemovesItsTemporaryFolder()
    {
        var fabric = await DxlTestFabric.StartAsync(new DxlTestFabricOptions { WithTieSimulator = false });
        var folder = fabric.Files.Folder;
        Assert.True(File.Exists(fabric.ConfigPath));
        await fabric.DisposeAsync();
        Assert.False(Directory.Exists(folder));
    }
}
