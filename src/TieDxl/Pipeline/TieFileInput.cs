using System.Collections;
using System.Management.Automation;
using TieDxl.Tie;
using static TieDxl.Errors.ErrorCatalog;

namespace TieDxl.Pipeline;

/// <summary>
/// One file to work on, as the pipeline gave it: hashes (ready) or a path (hashed later, on a worker thread),
/// plus the name and path to show. <see cref="Problem"/> is set when the input cannot be used.
/// </summary>
internal sealed record TieFileInput(TieHashes? Hashes, string? FilePath, string? Name, string? DisplayPath, object Target, TieInputProblem? Problem = null)
{
    /// <summary>A lookup that came with the input (Get-TieFileReputation output): no need to ask TIE again.</summary>
    public FileReputationResult? Known { get; init; }

    /// <summary>
    /// The file the given hashes were computed from (Get-FileHash output, or a Path beside the hashes): a set or report
    /// reads it once, when it still exists, to send all three hashes.
    /// </summary>
    public string? HashedFile { get; init; }

    /// <summary>
    /// This input with its hashes to be completed from <see cref="HashedFile"/> on the worker, when fewer than three
    /// were given; otherwise itself. TIE keeps an incomplete record of a file reported with one hash type.
    /// </summary>
    public TieFileInput WithCompleteHashes() =>
        Hashes is { Count: < 3 } && HashedFile is not null && Problem is null && File.Exists(HashedFile) ? this with { FilePath = HashedFile } : this;

    /// <summary>How ShouldProcess and error messages name this item.</summary>
    public string Describe() => Hashes is { } h ? TieTargets.Describe(h, Name) : DisplayPath ?? FilePath ?? Target?.ToString() ?? "(input)";
}

/// <summary>Why an input item cannot be used, with the error id and category it becomes.</summary>
internal sealed record TieInputProblem(string ErrorId, ErrorCategory Category, string Message, Exception? Exception = null);

/// <summary>
/// Turns whatever the pipeline sends into <see cref="TieFileInput"/>: hash strings (algorithm from the length),
/// Get-FileHash output (Algorithm, Hash, Path), Get-TieFileReputation output or any object with Md5/Sha1/Sha256
/// properties (Import-Csv), hashtables (md5/sha1/sha256[/name/path] keys), and files (FileInfo, or anything with
/// PSPath/FullName, from Get-ChildItem or Get-Item).
/// </summary>
internal static class TieFileInputResolver
{
    public static TieFileInput FromObject(object? input, PSCmdlet cmdlet)
    {
        var value = input is PSObject ps ? ps.BaseObject : input;
        switch (value)
        {
            case null:
                return Problem(input ?? "", InvalidInput, "The input is empty: give a hash, a file, a Get-FileHash result or a hashtable.");
            case string text:
                return FromHashString(text, null, null, null, input!);
            case FileInfo file:
                return FromFile(file.FullName, input!);
            case DirectoryInfo directory:
                return Problem(input!, PathIsDirectory, $"'{directory.FullName}' is a directory: pipe the files in it (Get-ChildItem -File -Recurse).", ErrorCategory.InvalidArgument);
            case IDictionary table:
                return FromDictionary(table, input!);
            case TieFileReputation reputation:
                return Given(reputation.Result.Hashes, reputation.Name, reputation.Path, input!, reputation.Result);
        }

        var pso = input as PSObject ?? PSObject.AsPSObject(value);
        string? Prop(string name) => pso.Properties[name]?.Value?.ToString();

        if (Prop("Hash") is { } hash)
            return FromHashString(hash, Prop("Algorithm"), Prop("Name"), Prop("Path"), input!);
        if (Prop("Md5") is not null || Prop("Sha1") is not null || Prop("Sha256") is not null)
            return FromParts(Prop("Md5"), Prop("Sha1"), Prop("Sha256"), Prop("Name"), Prop("Path"), input!);
        if (Prop("PSPath") is { } psPath)
            return FromFile(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(psPath), input!);
        if (Prop("FullName") is { } fullName)
            return FromFile(fullName, input!);
        return Problem(input!, InvalidInput,
            $"Cannot use a {value.GetType().Name} as input: give a hash string, a file, Get-FileHash output, an object with Md5/Sha1/Sha256 properties, or a hashtable.");
    }

    /// <summary>A hash string; the algorithm is checked against its length, or inferred from it.</summary>
    public static TieFileInput FromHashString(string hash, string? algorithm, string? name, string? path, object target)
    {
        var hex = hash.Trim();
        try
        {
            TieHashes hashes;
            if (string.IsNullOrEmpty(algorithm))
            {
                hashes = TieHashes.FromHex(hex);
            }
            else
            {
                if (!TieConstants.TryParseHashType(algorithm, out var type))
                    return Problem(target, UnsupportedAlgorithm,
                        $"{algorithm} hash '{Shorten(hex)}'{(path is null ? "" : $" of '{path}'")}: TIE knows MD5, SHA1 and SHA256 only. Use Get-FileHash -Algorithm SHA256.");
                hashes = TieHashes.FromHex(type, hex);
            }
            return Given(hashes, name, path, target);
        }
        catch (TieHashFormatException e)
        {
            return Problem(target, InvalidHash, $"'{Shorten(hex)}' is not a valid hash: {e.Reason}", ErrorCategory.InvalidArgument, e);
        }
    }

    public static TieFileInput FromParts(string? md5, string? sha1, string? sha256, string? name, string? path, object target)
    {
        if (string.IsNullOrWhiteSpace(md5) && string.IsNullOrWhiteSpace(sha1) && string.IsNullOrWhiteSpace(sha256))
            return Problem(target, InvalidHash, "No hash given: supply at least one of -Md5, -Sha1 and -Sha256.", ErrorCategory.InvalidArgument);
        try
        {
            var hashes = TieHashes.Empty;
            if (!string.IsNullOrWhiteSpace(md5)) hashes = hashes.With(HashType.Md5, md5.Trim());
            if (!string.IsNullOrWhiteSpace(sha1)) hashes = hashes.With(HashType.Sha1, sha1.Trim());
            if (!string.IsNullOrWhiteSpace(sha256)) hashes = hashes.With(HashType.Sha256, sha256.Trim());
            return Given(hashes, name, path, target);
        }
        catch (TieHashFormatException e)
        {
            return Problem(target, InvalidHash, $"'{Shorten(e.Value)}' is not a valid {e.HashType?.ToString().ToUpperInvariant() ?? ""} hash: {e.Reason}", ErrorCategory.InvalidArgument, e);
        }
    }

    public static TieFileInput FromDictionary(IDictionary table, object target)
    {
        string? Get(params string[] keys)
        {
            foreach (DictionaryEntry entry in table)
                foreach (var key in keys)
                    if (string.Equals(entry.Key?.ToString(), key, StringComparison.OrdinalIgnoreCase))
                        return entry.Value?.ToString();
            return null;
        }
        foreach (DictionaryEntry entry in table)
        {
            var key = entry.Key?.ToString() ?? "";
            if (key.StartsWith("sha", StringComparison.OrdinalIgnoreCase) && !key.Equals("sha1", StringComparison.OrdinalIgnoreCase) && !key.Equals("sha256", StringComparison.OrdinalIgnoreCase))
                return Problem(target, UnsupportedAlgorithm, $"Hashtable key '{key}': TIE knows md5, sha1 and sha256 only.", ErrorCategory.InvalidArgument);
        }
        if (Get("hash") is { } hash) return FromHashString(hash, Get("algorithm"), Get("name", "filename"), Get("path"), target);
        return FromParts(Get("md5"), Get("sha1"), Get("sha256"), Get("name", "filename"), Get("path"), target);
    }

    public static TieFileInput FromFile(string path, object target)
    {
        if (Directory.Exists(path))
            return Problem(target, PathIsDirectory, $"'{path}' is a directory: pipe the files in it (Get-ChildItem -File -Recurse).", ErrorCategory.InvalidArgument);
        if (!File.Exists(path))
            return Problem(target, FileNotFound, $"File '{path}' does not exist.", ErrorCategory.ObjectNotFound);
        return new TieFileInput(null, path, Path.GetFileName(path), path, target);
    }

    /// <summary>Hashes as given, with the file they came from (not touched here: only a set or report needs it).</summary>
    private static TieFileInput Given(TieHashes hashes, string? name, string? path, object target, FileReputationResult? known = null) =>
        new(hashes, null, name ?? (path is null ? null : Path.GetFileName(path)), path, target)
        {
            HashedFile = hashes.Count < 3 && !string.IsNullOrEmpty(path) ? path : null,
            Known = known,
        };

    private static TieFileInput Problem(object target, string id, string message, ErrorCategory category = ErrorCategory.InvalidArgument, Exception? e = null) =>
        new(null, null, null, null, target, new TieInputProblem(id, category, message, e));

    private static string Shorten(string s) => s.Length > 80 ? s[..77] + "..." : s;
}
