namespace TieDxl;

/// <summary>Whose reputation a Set cmdlet changes: External (files, provider 15) or Enterprise (files 3, certificates 4).</summary>
public enum TieReputationProvider
{
    External,
    Enterprise,
}
