namespace TieDxl.Fabric.Simulator;

/// <summary>
/// Seed data of the TIE simulator.
/// <para>Seed file format (JSON; comments and trailing commas allowed):</para>
/// <code>
/// {
///   "replace": false,                  // true: clear the store (incl. the built-in seed) first
///   "files": [
///     {
///       "name": "notepad.exe",
///       "hashes": { "md5": "hex", "sha1": "hex", "sha256": "hex" },     // hex, any case; at least one
///       "reputations": [                                                 // as TIE sends them
///         { "providerId": 1, "trustLevel": 99, "createDate": 1451502875, "attributes": { "2120340": "2139160704" } }
///       ],
///       "agents": [ { "agentGuid": "{…}", "date": 1475873692 } ],        // optional; first references
///       "certificate": { "sha1": "hex", "publicKeySha1": "hex" }          // optional; signing certificate
///     }
///   ],
///   "certificates": [
///     { "name": "cert1", "sha1": "hex", "publicKeySha1": "hex", "reputations": [ … ], "agents": [ … ] }
///   ]
/// }
/// </code>
/// An item whose hash (file) or SHA-1 (certificate) is already in the store replaces the stored one.
/// Attribute values may be strings or numbers (numbers are kept as their text, TIE sends strings).
/// </summary>
public static class TieSimulatorSeed
{
    /// <summary>A well-known good file: GTI KNOWN_TRUSTED (99), Enterprise NOT_SET.</summary>
    public const string NotepadMd5 = "f2c7bb8acc97f92e987a2d4087d021b1";
    public const string NotepadSha1 = "7eb0139d2175739b3ccb0d1110067820be6abd29";
    public const string NotepadSha256 = "142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2";

    /// <summary>The EICAR test file: GTI KNOWN_MALICIOUS (1), Enterprise NOT_SET.</summary>
    public const string EicarMd5 = "44d88612fea8a8f36de82e1278abb02f";
    public const string EicarSha1 = "3395856ce81f2b7382dee72602f798b642f14140";
    public const string EicarSha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

    /// <summary>A file every provider is undecided about (GTI UNKNOWN 50, Enterprise NOT_SET).</summary>
    public const string UnknownFileMd5 = "586297d3bf63b478a2df61ef2579fd9e";
    public const string UnknownFileSha1 = "a7c515a836f20e8589d1c68e06237904c3cec2ad";
    public const string UnknownFileSha256 = "f0649a543e8fb682ec25a7dcc3b8fa7b86744e018ae4bc784be6c86cb46861ae";

    /// <summary>SHA-1 of the ASCII strings "cert1" and "cert1publickey" (the Python mock's certificate).</summary>
    public const string Cert1Sha1 = "b5bb3823c60f4f3fda94decb5246edcfb126f0ad";
    public const string Cert1PublicKeySha1 = "af55bf11d98375cbee961bd71c08f47bc1aa1937";

    /// <summary>The certificate of the advanced samples (second fake).</summary>
    public const string Cert2Sha1 = "6eae26db8c13182a7947982991b4321732cc3de2";
    public const string Cert2PublicKeySha1 = "3b87a2d6f39770160364b79a152fcc73bae27adf";

    /// <summary>
    /// The public key of notepad.exe's signing certificate as named in its repchange events: the value of the OpenDXL TIE client's
    /// repchange example, so that events from the simulator and from that example name the same key.
    /// </summary>
    public const string NotepadCertPublicKeySha1 = "435dfd470f727437c7cb4f07cba1f9a1f4272656";

    /// <summary>The agents the built-in seed lists as first references of notepad.exe and the certificates.</summary>
    public const string Agent1 = "{3a6f574a-3e6f-436d-acd4-bcde336b054d}";
    public const string Agent2 = "{d48d3d1a-915e-11e6-323a-000c2992f5d9}";
    public const string Agent3 = "{68125cd6-a5d8-11e6-348e-000c29663178}";

    /// <summary>
    /// The built-in seed: notepad.exe, EICAR, UNKNOWN_FILE, cert1 and the second fake's certificate
    /// (<c>BuiltInSeed.json</c>, embedded in the assembly).
    /// </summary>
    public static string BuiltIn => s_builtIn.Value;

    private static readonly Lazy<string> s_builtIn = new(() =>
    {
        using var stream = typeof(TieSimulatorSeed).Assembly.GetManifestResourceStream("TieDxl.Fabric.Simulator.BuiltInSeed.json")
            ?? throw new InvalidOperationException("The built-in TIE seed is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
