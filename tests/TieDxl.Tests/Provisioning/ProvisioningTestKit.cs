using System.Net;
using System.Text;
using TieDxl.Dxl;
using TieDxl.Dxl.Provisioning;
using TieDxl.Fabric;
using TieDxl.Fabric.Provisioning;

namespace TieDxl.Tests.Provisioning;

/// <summary>Shared steps of the provisioning tests: clients for an endpoint, captured logs, secret checks.</summary>
internal static class ProvisioningTestKit
{
    public static EpoClient ClientFor(DxlTestFabric fabric, List<string>? log = null, string? password = null, bool trustFabricCa = true) =>
        ClientFor(fabric.Provisioning!.Server, fabric.Provisioning.UserName, password ?? fabric.Provisioning.Password,
            trustFabricCa ? fabric.Files.CaPath : null, log);

    public static EpoClient ClientFor(string server, string user, string password, string? caFile, List<string>? log = null,
        bool skipCheck = false, IWebProxy? proxy = null) =>
        new(new EpoClientOptions
        {
            Server = server,
            Credential = new NetworkCredential(user, password),
            CaFilePath = caFile,
            SkipCertificateCheck = skipCheck,
            Proxy = proxy,
            Timeout = TimeSpan.FromSeconds(10),
            Log = log is null ? null : (DxlLogLevel _, string m) => { lock (log) log.Add(m); },
        });

    /// <summary>Provisions a fresh key pair for <paramref name="commonName"/> into <paramref name="folder"/> through the fabric's endpoint.</summary>
    public static async Task<DxlClientConfigFiles> ProvisionAsync(DxlTestFabric fabric, string folder, string commonName)
    {
        using var epo = ClientFor(fabric);
        using var request = DxlCertificateRequest.Create(new DxlCertificateSubject { CommonName = commonName });
        return await DxlProvisioner.ProvisionAsync(epo, request, folder);
    }

    /// <summary>Fails when any of the texts holds the password, its Basic header form, or key material.</summary>
    public static void AssertNoSecret(string password, string user, IEnumerable<string> texts)
    {
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        foreach (var text in texts)
        {
            Assert.DoesNotContain(password, text);
            Assert.DoesNotContain(basic, text);
            Assert.DoesNotContain("Authorization", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("PRIVATE KEY-----", text); // a PEM key block, not its name in a sentence
        }
    }

    /// <summary>Every message of an exception and its inner exceptions.</summary>
    public static IEnumerable<string> Messages(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x.ToString();
    }

    public static LoopbackHttpResponse Ok(string body) => new(200, "OK", body);

    public static Dictionary<string, string> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllText);
}
