namespace TieDxl;

/// <summary>The kinds of TIE events Receive-TieEvent can stream (its -Type).</summary>
public enum TieEventType
{
    FileReputationChange,
    CertificateReputationChange,
    Detection,
    FirstInstance,
    Prevalence,
}
