using System.Collections.Specialized;
using TieDxl.Tie;

namespace TieDxl;

/// <summary>What one provider (GTI, Enterprise, ATD, MWG, External...) says about a file or certificate.</summary>
public sealed class TieProviderReputation
{
    internal TieProviderReputation(TieReputation reputation)
    {
        ProviderId = reputation.ProviderId;
        Provider = reputation.ProviderName;
        TrustLevel = reputation.TrustLevel;
        TrustLevelValue = reputation.TrustLevelValue;
        CreateDate = reputation.CreateDate?.UtcDateTime;
        // Attribute names where TIE documents them, raw ids otherwise; values stay TIE's strings.
        Attributes = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var attribute in reputation.Attributes)
            Attributes[attribute.Name] = attribute.Value;
        RawAttributes = reputation.RawAttributes;
    }

    public string Provider { get; }
    public int ProviderId { get; }
    public TrustLevel TrustLevel { get; }
    /// <summary>The number TIE sent (kept when it is not one of the known levels).</summary>
    public int TrustLevelValue { get; }
    public DateTime? CreateDate { get; }
    public OrderedDictionary Attributes { get; }
    public IReadOnlyDictionary<string, string> RawAttributes { get; }

    public override string ToString() => $"{Provider}={TrustLevel}";
}
