using System.Management.Automation;
using TieDxl.Errors;
using TieDxl.Tie;

namespace TieDxl.Commands.Tie;

/// <summary>
/// What the cmdlets that change reputations share beyond their bases (the certificate cmdlet's base is not the file
/// set base): opening -JournalPath, and how an outcome reads in their messages.
/// </summary>
internal static class TieJournalParameter
{
    /// <summary>The journal at <paramref name="journalPath"/> (a PowerShell path), or null; a path that cannot be a journal ends the command.</summary>
    public static TieJournalWriter? Open(PSCmdlet cmdlet, string? journalPath)
    {
        if (string.IsNullOrEmpty(journalPath)) return null;
        try
        {
            return TieJournalWriter.Open(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(journalPath));
        }
        catch (Exception e) when (e is TieJournalException or ArgumentException or NotSupportedException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException)
        {
            throw ErrorCatalog.Throw(cmdlet, ErrorCatalog.FromException(e is TieJournalException ? e : new TieJournalException(journalPath, e.Message, inner: e), journalPath));
        }
    }

    /// <summary>The outcome with the hint that -Force sends anyway, when nothing was sent because of a decision.</summary>
    public static TieSetOutcome WithForceHint(TieSetOutcome outcome) =>
        outcome.Status is TieSetReputationStatus.Skipped or TieSetReputationStatus.Unchanged
            ? outcome with { Reason = outcome.Reason + " Use -Force to send anyway." }
            : outcome;

    /// <summary>The verbose line of an item that did not fail: <paramref name="sent"/> when sent, the reason when unchanged.</summary>
    public static string DoneVerbose(TieSetOutcome outcome, string itemName, string sent) =>
        outcome.Status == TieSetReputationStatus.Unchanged ? $"Unchanged {itemName}: {outcome.Reason}" : sent;
}
