using System.Collections.Concurrent;
using System.Management.Automation;
using TieDxl.Output;
using TieDxl.Pipeline;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// Set-TieExternalReputation: the OpenDXL "set external reputation" workflow. Each file is looked up first; when a
/// provider other than External already has a definitive verdict it is skipped (with a warning) unless -Force.
/// Otherwise the External report (provider 15) is published. -Verify then waits until TIE reports it.
/// </summary>
[Cmdlet(VerbsCommon.Set, "TieExternalReputation", DefaultParameterSetName = TieFileInputParameters.InputObjectSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TieSetReputationResult))]
public sealed class SetTieExternalReputationCommand : TieFileCmdletBase
{
    private readonly ConcurrentDictionary<string, bool> _adviceGiven = new();

    [Parameter(Mandatory = true)]
    public TrustLevel TrustLevel { get; set; }

    [Parameter]
    public FileType FileType { get; set; } = FileType.None;

    /// <summary>The file name TIE shows; defaults to the input's file name. TIE ignores reports without one.</summary>
    [Parameter]
    [Alias("Name")]
    public string? FileName { get; set; }

    [Parameter]
    public string? Comment { get; set; }

    /// <summary>Report even when another provider already has a definitive reputation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write a result per file: Sent, Skipped or Failed, with the reason.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>After sending, look the file up until TIE reports the External reputation (or -VerifyTimeoutSec passes).</summary>
    [Parameter]
    public SwitchParameter Verify { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int VerifyTimeoutSec { get; set; } = 30;

    private protected override string ProgressActivity => "Set-TieExternalReputation";
    private protected override string? ParameterFileName => FileName;


    private protected override void ProcessItem(TieFileInput input)
    {
        var target = input.Describe();
        if (!ShouldProcess(target, $"Set External reputation to {TrustLevel}{(Force ? " (even over other providers' verdicts)" : " unless another provider decided")}"))
            return;

        var trustLevel = TrustLevel;
        var fileType = FileType;
        Enqueue(input, async ct =>
        {
            var hashes = input.Hashes ?? await FileHasher.HashAsync(input.FilePath!, ct).ConfigureAwait(false);
            var name = FileName ?? input.Name;
            var warnings = Advice(hashes, name, fileType);

            TieFileReputation? before = null;
            if (!Force)
            {
                FileReputationResult? lookup = input.Known;
                try
                {
                    lookup ??= await Tie.GetFileReputationAsync(hashes, Timeout, ct).ConfigureAwait(false);
                }
                catch (TieNotFoundException)
                {
                    // TIE knows nothing of the file: nobody decided, which is exactly when External applies.
                }
                before = lookup is null ? null : new TieFileReputation(lookup, name, input.DisplayPath);
                if (lookup is not null && lookup.HasDefinitiveNonExternalReputation)
                {
                    var decided = string.Join(", ", lookup.Reputations
                        .Where(r => r.ProviderId != (int)FileProvider.External && r.TrustLevel is not (TrustLevel.NotSet or TrustLevel.Unknown))
                        .Select(r => $"{r.ProviderName} says {r.TrustLevelName}"));
                    var reason = $"{decided}: External is only a fallback, so nothing was sent (use -Force to send anyway).";
                    warnings.Add($"Skipped {TieTargets.Describe(hashes, name)}: {reason}");
                    return new ItemOutcome
                    {
                        Warnings = warnings,
                        Output = PassThru ? new TieSetReputationResult("External", hashes, name, input.DisplayPath, trustLevel, TieSetReputationStatus.Skipped, reason, before) : null,
                    };
                }
            }

            // TIE servers ignore External reports without a file name: fall back to the hash rather than lose it.
            var sentName = string.IsNullOrWhiteSpace(name) ? hashes.Strongest?.Value : name;
            try
            {
                await Tie.SetExternalFileReputationAsync(hashes, trustLevel, fileType, sentName, Comment, ct).ConfigureAwait(false);
            }
            catch (TieException e)
            {
                // Never reported as sent when it was not.
                return new ItemOutcome
                {
                    Warnings = warnings,
                    Error = TieErrors.FromException(e, input),
                    Output = PassThru ? new TieSetReputationResult("External", hashes, name, input.DisplayPath, trustLevel, TieSetReputationStatus.Failed, "not sent: " + e.Message, before) : null,
                };
            }

            bool? verified = null;
            if (Verify)
            {
                verified = await WaitForExternalAsync(hashes, trustLevel, ct).ConfigureAwait(false);
                if (verified == false)
                {
                    var reason = $"sent, but TIE did not report External = {trustLevel} within {VerifyTimeoutSec} s: is the External Reputation Provider enabled in the TIE server policy, and is this client authorised for 'TIE Server Set External Reputation'?";
                    return new ItemOutcome
                    {
                        Warnings = warnings,
                        Error = DxlErrors.Create(TieErrors.VerifyFailed, ErrorCategory.OperationTimeout, input.Target, $"{TieTargets.Describe(hashes, name)}: {reason}"),
                        Output = PassThru ? new TieSetReputationResult("External", hashes, name, input.DisplayPath, trustLevel, TieSetReputationStatus.Failed, reason, before, false) : null,
                    };
                }
            }
            return new ItemOutcome
            {
                Warnings = warnings,
                Verbose = $"External reputation {trustLevel} sent for {TieTargets.Describe(hashes, sentName)}.",
                Output = PassThru ? new TieSetReputationResult("External", hashes, name, input.DisplayPath, trustLevel, TieSetReputationStatus.Sent, null, before, verified) : null,
            };
        }, e => PassThru
            ? new TieSetReputationResult("External", input.Hashes ?? TieHashes.Empty, FileName ?? input.Name, input.DisplayPath, trustLevel, TieSetReputationStatus.Failed, e.Message)
            : null);
    }

    /// <summary>
    /// Polls TIE until provider 15 shows the trust level that was sent. Every lookup is bounded by the time left, and
    /// a failed lookup is not a verdict: only the deadline is.
    /// </summary>
    private async Task<bool> WaitForExternalAsync(TieHashes hashes, TrustLevel trustLevel, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(VerifyTimeoutSec);
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            try
            {
                var now = await Tie.GetFileReputationAsync(hashes, left < Timeout ? left : Timeout, ct).ConfigureAwait(false);
                if (now.External?.TrustLevel == trustLevel) return true;
            }
            catch (TieException)
            {
            }
            if (DateTime.UtcNow + delay > deadline) return false;
            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }

    /// <summary>What users learned the hard way (tie-api §3.3), said once per command rather than once per file.</summary>
    private List<string> Advice(TieHashes hashes, string? name, FileType fileType)
    {
        var list = new List<string>();
        void Once(string key, string text)
        {
            if (_adviceGiven.TryAdd(key, true)) list.Add(text);
        }
        if (string.IsNullOrWhiteSpace(name))
            Once("name", "Some files have no name (TIE servers ignore External reports without one): they are sent with their hash as the name. Use -FileName.");
        if (hashes.Count < 3)
            Once("hashes", "Some files have fewer than three hash types: TIE then keeps an incomplete record that later reports cannot complete. Pipe files or Get-FileHash for MD5, SHA1 and SHA256.");
        if (fileType == FileType.None)
            Once("type", "No -FileType given: TIE records type NONE. Give the real type (for example PeExe) when you know it.");
        return list;
    }
}
