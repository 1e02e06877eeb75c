using System.Collections.ObjectModel;
using System.Management.Automation;
using TieDxl.Errors;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

internal static class TieFileInputParameters
{
    public const string InputObjectSet = "InputObject";
    public const string HashSet = "Hash";
    public const string HashesSet = "Hashes";
    public const string PathSet = "Path";
    public const string LiteralPathSet = "LiteralPath";
}

/// <summary>
/// The file-input parameters shared by the TIE file cmdlets, and their resolution into <see cref="TieFileInput"/>.
/// Pipeline input arrives as -InputObject and is recognised by shape (see <see cref="TieFileInputResolver"/>), so a
/// Get-FileHash result with SHA512 gets a clear error instead of being bound silently with a wrong algorithm.
/// </summary>
public abstract class TieFileCmdletBase : TieBulkCmdletBase
{
    /// <summary>Hashes, files, Get-FileHash or Get-TieFileReputation output, hashtables.</summary>
    [Parameter(ParameterSetName = TieFileInputParameters.InputObjectSet, ValueFromPipeline = true)]
    [AllowNull]
    public object? InputObject { get; set; }

    /// <summary>Hex hashes; the algorithm comes from -Algorithm or from the length (32 MD5, 40 SHA1, 64 SHA256).</summary>
    [Parameter(ParameterSetName = TieFileInputParameters.HashSet, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] Hash { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = TieFileInputParameters.HashSet)]
    [ArgumentCompleter(typeof(HashAlgorithmCompleter))]
    public string? Algorithm { get; set; }

    [Parameter(ParameterSetName = TieFileInputParameters.HashesSet)]
    public string? Md5 { get; set; }

    [Parameter(ParameterSetName = TieFileInputParameters.HashesSet)]
    public string? Sha1 { get; set; }

    [Parameter(ParameterSetName = TieFileInputParameters.HashesSet)]
    public string? Sha256 { get; set; }

    /// <summary>Files to hash and look up; wildcards allowed.</summary>
    [Parameter(ParameterSetName = TieFileInputParameters.PathSet, Mandatory = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Files to hash and look up, taken literally.</summary>
    [Parameter(ParameterSetName = TieFileInputParameters.LiteralPathSet, Mandatory = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    private protected abstract void ProcessItem(TieFileInput input);

    /// <summary>
    /// Queues the work for one file; a failure of it is this item's error record, then <paramref name="failureOutput"/>.
    /// The work gets the file's hashes with <see cref="HashesOf"/>.
    /// </summary>
    private protected void EnqueueFile(TieFileInput input, Func<CancellationToken, Task<PipelineMessage>> work,
        Func<Exception, PipelineMessage?>? failureOutput = null) =>
        Enqueue(input.Target, input, work, failureOutput);

    /// <summary>
    /// The input's hashes: as given, at no cost; computed from the file (on the worker; one read for all three); or,
    /// for a set whose input came with fewer than three (see <see cref="CompletesGivenHashes"/>), completed from the file.
    /// </summary>
    private protected static ValueTask<TieHashes> HashesOf(TieFileInput input, CancellationToken cancellationToken) =>
        (input.Hashes, input.FilePath) switch
        {
            ({ } given, null) => new ValueTask<TieHashes>(given),
            ({ } given, { } file) => new ValueTask<TieHashes>(TieFileHasher.CompleteAsync(file, given, cancellationToken)),
            _ => new ValueTask<TieHashes>(TieFileHasher.HashAsync(input.FilePath!, cancellationToken)),
        };

    /// <summary>
    /// True where TIE keeps what is sent (sets and reports): an input that names the file its hashes came from (a
    /// Get-FileHash result) is then read once for MD5, SHA-1 and SHA-256. A lookup needs one hash and reads nothing.
    /// </summary>
    private protected virtual bool CompletesGivenHashes => false;

    /// <summary>Name to report for hashes given by parameter (Set cmdlets send it to TIE).</summary>
    private protected virtual string? ParameterFileName => null;

    protected override void ProcessRecord()
    {
        // Piped input, one object per call: taken without the iterator the parameter sets need (no allocation per item).
        if (ParameterSetName == TieFileInputParameters.InputObjectSet)
        {
            if (PipedInput() is { } piped) Process(piped);
            return;
        }
        foreach (var input in ResolveInputs()) Process(input);
    }

    private void Process(TieFileInput input)
    {
        if (input.Problem is { } problem)
            EnqueueMessage(new PipelineMessage.Error(ErrorCatalog.Create(problem.ErrorId, problem.Category, input.Target, problem.Message, problem.Exception)));
        else
            ProcessItem(CompletesGivenHashes ? input.WithCompleteHashes() : input);
    }

    private TieFileInput? PipedInput()
    {
        if (InputObject is null && !MyInvocation.ExpectingInput) return null;
        var input = TieFileInputResolver.FromObject(InputObject, this);
        return ParameterFileName is { } name && input.Name is null ? input with { Name = name } : input;
    }

    private IEnumerable<TieFileInput> ResolveInputs()
    {
        switch (ParameterSetName)
        {
            case TieFileInputParameters.HashSet:
                foreach (var hash in Hash)
                    yield return TieFileInputResolver.FromHashString(hash ?? "", Algorithm, ParameterFileName, null, hash ?? "");
                break;
            case TieFileInputParameters.HashesSet:
                yield return TieFileInputResolver.FromParts(Md5, Sha1, Sha256, ParameterFileName, null, Sha256 ?? Sha1 ?? Md5 ?? "");
                break;
            case TieFileInputParameters.PathSet:
                foreach (var pattern in Path)
                {
                    Collection<string> resolved;
                    try
                    {
                        resolved = GetResolvedProviderPathFromPSPath(pattern, out _);
                    }
                    catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or PSArgumentException)
                    {
                        resolved = new Collection<string>();
                        EnqueueMessage(new PipelineMessage.Error(
                            ErrorCatalog.Create(ErrorCatalog.FileNotFound, ErrorCategory.ObjectNotFound, pattern, $"No file matches '{pattern}': {e.Message}", e)));
                    }
                    foreach (var file in resolved) yield return TieFileInputResolver.FromFile(file, file);
                }
                break;
            case TieFileInputParameters.LiteralPathSet:
                foreach (var literal in LiteralPath)
                    yield return TieFileInputResolver.FromFile(SessionState.Path.GetUnresolvedProviderPathFromPSPath(literal), literal);
                break;
            default:
                if (PipedInput() is { } piped) yield return piped;
                break;
        }
    }
}
