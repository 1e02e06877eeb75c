namespace TieDxl.Dxl.Provisioning;

/// <summary>The provisioning journeys end to end: ePO's answer validated, then the files written.</summary>
public static class DxlProvisioner
{
    /// <summary>
    /// Sends <paramref name="request"/> to ePO and writes the config folder. The folder is checked to be writable
    /// before ePO signs anything; nothing is written unless every part of the answer is valid.
    /// </summary>
    public static async Task<DxlClientConfigFiles> ProvisionAsync(EpoClient epo, DxlCertificateRequest request, string folder,
        string prefix = DxlClientConfigWriter.DefaultPrefix, bool force = false, string? keyPassword = null, CancellationToken cancellationToken = default)
    {
        DxlClientConfigWriter.EnsureWritable(folder, prefix, request.HasPrivateKey, force);
        var package = await epo.ProvisionAsync(request.CsrPem, cancellationToken).ConfigureAwait(false);
        var plan = DxlClientConfigWriter.Plan(folder, package, request, keyPassword, prefix, force, writeRequest: request.HasPrivateKey);
        return DxlClientConfigWriter.Write(plan);
    }

    /// <summary>Fetches ePO's current CA bundle and broker list and computes the update of <paramref name="configPath"/>, writing nothing.</summary>
    public static async Task<DxlClientConfigUpdatePlan> PlanUpdateAsync(EpoClient epo, string configPath, CancellationToken cancellationToken = default)
    {
        Config.DxlClientConfig.Load(configPath); // a missing or broken config fails before ePO is asked
        var caBundle = await epo.GetCaBundleAsync(cancellationToken).ConfigureAwait(false);
        var brokers = await epo.GetBrokerListAsync(cancellationToken).ConfigureAwait(false);
        return DxlClientConfigUpdater.Plan(configPath, caBundle, brokers);
    }
}
