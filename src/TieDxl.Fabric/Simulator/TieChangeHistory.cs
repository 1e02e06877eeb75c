using System.Globalization;
using TieDxl.Tie;

namespace TieDxl.Fabric.Simulator;

/// <summary>
/// What the simulator's change feed lists from: every reputation change (Enterprise file and certificate sets,
/// applied External reports) as (server time, item), and which subjects each client looked up (for targeted feeds).
/// <para>Bounded: past <see cref="Capacity"/> changes (and a sixteenth of it) the oldest are forgotten, as if they had not happened (a feed
/// that starts before the oldest kept change does not list those; <see cref="Forgotten"/> counts them). Past
/// <see cref="LookupCapacity"/> recorded lookups, further ones are not recorded (those subjects are not "looked up
/// before" for a targeted feed unless prevalent).</para>
/// </summary>
public sealed class TieChangeHistory
{
    public const int DefaultCapacity = 100_000;
    public const int LookupCapacity = 100_000;

    /// <summary>The Enterprise prevalence (systems that ran the file, or files signed by the certificate) from which a subject counts as prevalent.</summary>
    public const int PrevalentAt = 10;

    private readonly object _lock = new();
    // Ordered by (time, sequence); each item listed once, at its latest entry.
    private readonly List<Change> _changes = new();
    private readonly Dictionary<TieSimItem, long> _latestSequence = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, HashSet<string>> _lookups = new(StringComparer.Ordinal);
    private int _capacity = DefaultCapacity;
    private int _lookupCount;
    private long _sequence;
    private long _forgotten;

    private readonly record struct Change(long Time, long Sequence, TieSimItem Item);

    /// <summary>One subject the feed lists: the item and the time of its latest change.</summary>
    public readonly record struct Listed(TieSimItem Item, long Time);

    /// <summary>How many changes are kept (at least 1): past it and a sixteenth more, the oldest are forgotten down to it.</summary>
    public int Capacity
    {
        get { lock (_lock) return _capacity; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (_lock)
            {
                _capacity = value;
                TrimLocked();
            }
        }
    }

    public int Count { get { lock (_lock) return _changes.Count; } }

    /// <summary>Changes dropped because the history was full.</summary>
    public long Forgotten { get { lock (_lock) return _forgotten; } }

    internal void Clear()
    {
        lock (_lock)
        {
            _changes.Clear();
            _latestSequence.Clear();
            _lookups.Clear();
            _lookupCount = 0;
        }
    }

    /// <summary>Records a change of <paramref name="item"/> at <paramref name="time"/> (a clock set back still sorts it in place).</summary>
    internal void Record(TieSimItem item, long time)
    {
        lock (_lock)
        {
            var change = new Change(time, ++_sequence, item);
            var at = _changes.Count;
            while (at > 0 && _changes[at - 1].Time > time) at--;
            _changes.Insert(at, change);
            _latestSequence[item] = change.Sequence;
            TrimLocked();
        }
    }

    /// <summary>
    /// Forgets the oldest changes past the capacity. A large history is trimmed a sixteenth at a time: removing from
    /// the front moves every change kept, which once per set would make a full history slow every set.
    /// </summary>
    private void TrimLocked()
    {
        if (_changes.Count <= _capacity + _capacity / 16) return;
        var excess = _changes.Count - _capacity;
        for (var i = 0; i < excess; i++)
        {
            var old = _changes[i];
            if (_latestSequence.TryGetValue(old.Item, out var latest) && latest == old.Sequence) _latestSequence.Remove(old.Item);
        }
        _changes.RemoveRange(0, excess);
        _forgotten += excess;
    }

    /// <summary>Records that <paramref name="client"/> looked up the subject with these index keys.</summary>
    internal void RecordLookup(string client, IEnumerable<string> subjectKeys)
    {
        lock (_lock)
        {
            if (!_lookups.TryGetValue(client, out var keys))
            {
                if (_lookupCount >= LookupCapacity) return;
                _lookups[client] = keys = new HashSet<string>(StringComparer.Ordinal);
            }
            foreach (var key in subjectKeys)
            {
                if (_lookupCount >= LookupCapacity) return;
                if (keys.Add(key)) _lookupCount++;
            }
        }
    }

    /// <summary>True when <paramref name="client"/> looked up any of the item's hashes (or its public key).</summary>
    internal bool LookedUp(string client, TieSimItem item)
    {
        lock (_lock)
        {
            if (!_lookups.TryGetValue(client, out var keys)) return false;
            foreach (var key in IndexKeys(item))
                if (keys.Contains(key)) return true;
            return false;
        }
    }

    /// <summary>The store's index keys of an item's hashes (and certificate public key).</summary>
    internal static IEnumerable<string> IndexKeys(TieSimItem item)
    {
        if (item.IsCertificate)
        {
            yield return TieReputationStore.CertKey(item.Hashes.GetBytesOrNull(HashType.Sha1)!);
            if (item.PublicKeySha1 is { } pk) yield return TieReputationStore.PublicKeyKey(Convert.FromHexString(pk));
            yield break;
        }
        foreach (var entry in item.Hashes.Entries)
            yield return TieReputationStore.FileKey(entry.Key, item.Hashes.GetBytesOrNull(entry.Key)!);
    }

    /// <summary>An item's Enterprise prevalence is <see cref="PrevalentAt"/> or more.</summary>
    internal static bool IsPrevalent(TieSimItem item)
    {
        var enterprise = item.GetReputation(item.IsCertificate ? (int)CertProvider.Enterprise : (int)FileProvider.Enterprise);
        var attribute = item.IsCertificate ? CertEnterpriseAttrib.Prevalence : FileEnterpriseAttrib.Prevalence;
        return enterprise is not null && enterprise.RawAttributes.TryGetValue(attribute, out var text)
            && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var prevalence) && prevalence >= PrevalentAt;
    }

    /// <summary>
    /// The subjects whose latest change is at or after <paramref name="since"/>, oldest first, that
    /// <paramref name="include"/> accepts: at most <paramref name="limit"/>; <paramref name="more"/> tells whether
    /// further ones wait.
    /// </summary>
    internal List<Listed> ChangedSince(long since, int limit, Func<TieSimItem, bool> include, out bool more)
    {
        var listed = new List<Listed>();
        more = false;
        List<Change> candidates;
        lock (_lock)
        {
            candidates = new List<Change>();
            for (var i = FirstAtOrAfter(since); i < _changes.Count; i++)
            {
                var change = _changes[i];
                if (_latestSequence.TryGetValue(change.Item, out var latest) && latest == change.Sequence) candidates.Add(change);
            }
        }
        // The filter reads lookups (the same lock) and item snapshots, so it runs outside.
        foreach (var change in candidates)
        {
            if (!include(change.Item)) continue;
            if (listed.Count == limit)
            {
                more = true;
                break;
            }
            listed.Add(new Listed(change.Item, change.Time));
        }
        return listed;
    }

    private int FirstAtOrAfter(long since)
    {
        int lo = 0, hi = _changes.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_changes[mid].Time < since) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
