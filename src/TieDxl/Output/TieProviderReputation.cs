using System.Collections.Specialized;
using TieDxl.Tie;

namespace TieDxl;

/// <summary>What one provider (GTI, Enterprise, ATD, MWG, External...) says about a file or certificate.</summary>
/// <remarks>
/// Every property reads the TIE API's reputation when asked, and the attribute table is built on first read: a
/// pipeline that only counts or filters on the verdict allocates nothing for the attributes of each answer.
/// </remarks>
public sealed class TieProviderReputation
{
    private readonly TieReputation _reputation;
    private OrderedDictionary? _attributes;

    internal TieProviderReputation(TieReputation reputation)
    {
        _reputation = reputation;
    }

    public string Provider => _reputation.ProviderName;
    public int ProviderId => _reputation.ProviderId;
    public TrustLevel TrustLevel => _reputation.TrustLevel;
    /// <summary>The number TIE sent (kept when it is not one of the known levels).</summary>
    public int TrustLevelValue => _reputation.TrustLevelValue;
    public DateTime? CreateDate => _reputation.CreateDate?.UtcDateTime;

    /// <summary>Attribute names where TIE documents them, raw ids otherwise; values stay TIE's strings.</summary>
    public OrderedDictionary Attributes
    {
        get
        {
            if (Volatile.Read(ref _attributes) is { } built) return built;
            var table = new OrderedDictionary(_reputation.Attributes.Count, StringComparer.OrdinalIgnoreCase);
            foreach (var attribute in _reputation.Attributes)
                table[attribute.Name] = attribute.Value;
            // Two threads reading at once build equal tables; the first one published is kept.
            return Interlocked.CompareExchange(ref _attributes, table, null) ?? table;
        }
    }

    public IReadOnlyDictionary<string, string> RawAttributes => _reputation.RawAttributes;

    public override string ToString() => $"{Provider}={TrustLevel}";

    /// <summary>One wrapper per provider, in the TIE API's order.</summary>
    internal static TieProviderReputation[] Wrap(IReadOnlyList<TieReputation> reputations)
    {
        var wrapped = new TieProviderReputation[reputations.Count];
        for (var i = 0; i < wrapped.Length; i++) wrapped[i] = new TieProviderReputation(reputations[i]);
        return wrapped;
    }
}
