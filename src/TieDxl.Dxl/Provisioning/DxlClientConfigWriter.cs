using System.Security.Cryptography.X509Certificates;
using System.Text;
using TieDxl.Dxl.Config;
using TieDxl.Dxl.Tls;

namespace TieDxl.Dxl.Provisioning;

/// <summary>What <see cref="DxlClientConfigWriter"/> wrote (or, for a plan, will write). Paths are absolute.</summary>
public sealed record DxlClientConfigFiles(
    string Folder,
    string ConfigPath,
    string CaBundlePath,
    string CertificatePath,
    string PrivateKeyPath,
    string? CertificateRequestPath,
    bool PrivateKeyWritten,
    string CertificateSubject,
    string CertificateIssuer,
    DateTime CertificateNotAfter,
    IReadOnlyList<DxlBroker> Brokers,
    IReadOnlyList<DxlBroker> WebSocketBrokers);

/// <summary>Everything to be written, validated; <see cref="DxlClientConfigWriter.Write"/> writes it.</summary>
public sealed class DxlClientConfigPlan
{
    internal DxlClientConfigPlan(DxlClientConfigFiles files, IReadOnlyList<PlannedFile> writes) => (Files, Writes) = (files, writes);

    public DxlClientConfigFiles Files { get; }

    /// <summary>The files in the order they are renamed into place (the config last).</summary>
    public IReadOnlyList<PlannedFile> Writes { get; }
}

/// <summary>
/// Writes <c>dxlclient.config</c>, <c>ca-bundle.crt</c>, <c>{prefix}.crt</c> and <c>{prefix}.key</c> as the
/// reference CLI lays them out, so the Python and Java clients read the same folder. Everything is validated
/// before the first byte is written (the CA bundle parses, the certificate carries the request's key and is in
/// its validity period, the brokers are valid, the config reads back); every file is written atomically; an
/// existing key or config is replaced only when forced.
/// </summary>
public static class DxlClientConfigWriter
{
    public const string ConfigFileName = "dxlclient.config";
    public const string CaBundleFileName = "ca-bundle.crt";
    public const string DefaultPrefix = "client";

    /// <summary>
    /// Plans the files of a provisioning answer. <paramref name="request"/> is the CSR that was signed; its key is
    /// written (owner-only, encrypted with <paramref name="keyPassword"/> when given) when it has one, else the
    /// config names {prefix}.key for the user to supply. Throws <see cref="DxlProvisioningException"/>.
    /// </summary>
    public static DxlClientConfigPlan Plan(string folder, DxlProvisioningPackage package, DxlCertificateRequest request,
        ReadOnlySpan<char> keyPassword = default, string prefix = DefaultPrefix, bool force = false, bool writeRequest = true)
    {
        var certificate = ValidateCertificate(package.CertificatePem, "the signed certificate");
        if (!request.Matches(certificate))
            throw new DxlProvisioningException($"the signed certificate (subject {certificate.Subject}) does not carry the public key of the certificate request; nothing was written");
        var key = request.HasPrivateKey ? request.ExportPrivateKeyPem(keyPassword) : null;
        var csr = writeRequest ? Encoding.ASCII.GetBytes(request.CsrPem) : null;
        return BuildPlan(folder, prefix, package, certificate, key, csr, force);
    }

    /// <summary>
    /// Plans a config from files exported in the ePO console: the broker list (brokerlist.properties), the broker
    /// CA bundle (brokercerts.crt), a client certificate and its key. The pair is checked to match.
    /// </summary>
    public static DxlClientConfigPlan PlanFromExportedFiles(string folder, string brokerListPath, string caBundlePath,
        string certificatePath, string privateKeyPath, string? keyPassword = null, string prefix = DefaultPrefix, bool force = false)
    {
        var brokers = BrokerListProperties.Load(brokerListPath);
        DxlCertificates.LoadCaBundle(caBundlePath);
        DxlCertificates.LoadClientCertificate(certificatePath, privateKeyPath, keyPassword).Dispose();
        var package = new DxlProvisioningPackage(ReadText(caBundlePath), ReadText(certificatePath), brokers, Array.Empty<DxlBroker>());
        var certificate = ValidateCertificate(package.CertificatePem, $"the certificate file {Path.GetFullPath(certificatePath)}");
        var keyTarget = Path.GetFullPath(Path.Combine(folder, prefix + ".key"));
        var key = SamePath(privateKeyPath, keyTarget) ? null : File.ReadAllBytes(privateKeyPath);
        return BuildPlan(folder, prefix, package, certificate, key, null, force);
    }

    /// <summary>
    /// Refuses (unless <paramref name="force"/>) when the folder already has a config, or a key that would be
    /// replaced. Call it before asking ePO to sign anything.
    /// </summary>
    public static void EnsureWritable(string folder, string prefix, bool writesKey, bool force)
    {
        var guarded = new List<string> { Path.GetFullPath(Path.Combine(folder, ConfigFileName)) };
        if (writesKey) guarded.Add(Path.GetFullPath(Path.Combine(folder, prefix + ".key")));
        var existing = guarded.Where(File.Exists).ToList();
        if (existing.Count > 0 && !force)
            throw new DxlProvisioningException($"{string.Join(" and ", existing)} already exist{(existing.Count == 1 ? "s" : "")}; nothing was written (force to replace)");
    }

    /// <summary>Writes the plan's files (temporary file + rename each, the config last).</summary>
    public static DxlClientConfigFiles Write(DxlClientConfigPlan plan)
    {
        AtomicFiles.WriteAll(plan.Writes);
        return plan.Files;
    }

    /// <summary>The config text the reference CLI writes for these file names and brokers (LF line ends).</summary>
    public static string FormatConfig(string caBundleName, string certificateName, string keyName, IReadOnlyList<DxlBroker> brokers, IReadOnlyList<DxlBroker> webSocketBrokers)
    {
        var sb = new StringBuilder();
        sb.Append("[Certs]\n");
        sb.Append("BrokerCertChain = ").Append(caBundleName).Append('\n');
        sb.Append("CertFile = ").Append(certificateName).Append('\n');
        sb.Append("PrivateKey = ").Append(keyName).Append('\n');
        sb.Append("\n[Brokers]\n");
        foreach (var b in brokers) sb.Append(FormatBrokerLine(b)).Append('\n');
        sb.Append("\n[BrokersWebSockets]\n");
        foreach (var b in webSocketBrokers) sb.Append(FormatBrokerLine(b)).Append('\n');
        sb.Append("\n[General]\n#UseWebSockets = False\n");
        return sb.ToString();
    }

    /// <summary><c>{id} = {id};port;host[;ip]</c>.</summary>
    internal static string FormatBrokerLine(DxlBroker broker) => $"{broker.Id} = {broker.ToConfigValue()}";

    private static DxlClientConfigPlan BuildPlan(string folder, string prefix, DxlProvisioningPackage package, X509Certificate2 certificate,
        byte[]? privateKey, byte[]? csr, bool force)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new DxlProvisioningException("no target folder was given");
        if (string.IsNullOrWhiteSpace(prefix) || prefix.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || prefix.Contains('/') || prefix.Contains('\\'))
            throw new DxlProvisioningException($"'{prefix}' cannot prefix a file name");
        folder = Path.GetFullPath(folder);
        if (File.Exists(folder)) throw new DxlProvisioningException($"{folder} is a file; give a folder");

        ValidateCaBundle(package.CaBundlePem);
        var brokers = ValidateBrokers(package.Brokers, "broker");
        var webSocketBrokers = ValidateBrokers(package.WebSocketBrokers, "WebSocket broker");
        if (brokers.Count + webSocketBrokers.Count == 0) throw new DxlProvisioningException("the broker list is empty; a client needs at least one broker");

        var configPath = Path.Combine(folder, ConfigFileName);
        var caPath = Path.Combine(folder, CaBundleFileName);
        var certPath = Path.Combine(folder, prefix + ".crt");
        var keyPath = Path.Combine(folder, prefix + ".key");
        var csrPath = Path.Combine(folder, prefix + ".csr");

        var text = FormatConfig(CaBundleFileName, prefix + ".crt", prefix + ".key", brokers, webSocketBrokers);
        try { DxlClientConfig.Parse(text, configPath); }
        catch (DxlConfigException e) { throw new DxlProvisioningException($"the config would not read back ({e.Message}); nothing was written", e); }

        EnsureWritable(folder, prefix, privateKey is not null, force);

        var writes = new List<PlannedFile>();
        if (privateKey is not null) writes.Add(new PlannedFile(keyPath, privateKey, OwnerOnly: true));
        if (csr is not null) writes.Add(new PlannedFile(csrPath, csr));
        writes.Add(new PlannedFile(caPath, Encoding.ASCII.GetBytes(package.CaBundlePem)));
        writes.Add(new PlannedFile(certPath, Encoding.ASCII.GetBytes(package.CertificatePem)));
        writes.Add(new PlannedFile(configPath, Encoding.ASCII.GetBytes(text)));

        var files = new DxlClientConfigFiles(folder, configPath, caPath, certPath, keyPath, csr is null ? null : csrPath, privateKey is not null,
            certificate.Subject, certificate.Issuer, certificate.NotAfter, brokers, webSocketBrokers);
        certificate.Dispose();
        return new DxlClientConfigPlan(files, writes);
    }

    internal static X509Certificate2Collection ValidateCaBundle(string pem)
    {
        try { return EpoAnswers.ParseCertificates(pem, "the CA bundle"); }
        catch (FormatException e) { throw new DxlProvisioningException($"{e.Message}; nothing was written", e); }
    }

    private static X509Certificate2 ValidateCertificate(string pem, string what)
    {
        X509Certificate2Collection all;
        try { all = EpoAnswers.ParseCertificates(pem, what); }
        catch (FormatException e) { throw new DxlProvisioningException($"{e.Message}; nothing was written", e); }
        if (all.Count != 1) throw new DxlProvisioningException($"{what} holds {all.Count} certificates; expected one");
        var c = all[0];
        var now = DateTime.Now;
        if (c.NotAfter < now) throw new DxlProvisioningException($"{what} (subject {c.Subject}) expired on {DxlCertificates.FormatDate(c.NotAfter)}; nothing was written");
        if (c.NotBefore > now) throw new DxlProvisioningException($"{what} (subject {c.Subject}) is not valid until {DxlCertificates.FormatDate(c.NotBefore)}; nothing was written");
        return c;
    }

    private static IReadOnlyList<DxlBroker> ValidateBrokers(IReadOnlyList<DxlBroker> brokers, string what)
    {
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var b in brokers)
        {
            if (string.IsNullOrWhiteSpace(b.Id)) throw new DxlProvisioningException($"a {what} ({b}) has no id; the config keys brokers by id");
            if (!ids.Add(b.Id)) throw new DxlProvisioningException($"the {what} id {b.Id} is listed twice");
            if (new[] { b.Id, b.Host, b.IpAddress ?? "" }.Any(field => field.IndexOfAny(LineBreakers) >= 0))
                throw new DxlProvisioningException($"the {what} {b.Id} has a character a config line cannot hold");
        }
        return brokers;
    }

    // Characters that would split or end a broker line in the config.
    private static readonly char[] LineBreakers = { ';', '=', '#', '\n', '\r' };

    private static string ReadText(string path)
    {
        try { return File.ReadAllText(path, Encoding.ASCII); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DxlProvisioningException($"{Path.GetFullPath(path)} cannot be read ({e.Message})", e);
        }
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
