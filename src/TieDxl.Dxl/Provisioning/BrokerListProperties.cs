using System.Globalization;
using System.Text;
using TieDxl.Dxl.Config;

namespace TieDxl.Dxl.Provisioning;

/// <summary>
/// The broker list ePO's console exports (<c>brokerlist.properties</c>): a Java properties file whose entries are
/// <c>{guid}={guid};port;host;ip</c>. Comment lines ('#' or '!', e.g. the export's date line), blank lines,
/// continuation lines and the escapes <c>\:</c> <c>\=</c> <c>\\</c> <c>\uXXXX</c> are accepted as Java reads them.
/// </summary>
public static class BrokerListProperties
{
    /// <summary>Reads the file. Throws <see cref="DxlConfigException"/> naming the file and line.</summary>
    public static IReadOnlyList<DxlBroker> Load(string path, bool webSocket = false)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new DxlConfigException("the broker list file does not exist", full);
        string text;
        try { text = File.ReadAllText(full, Encoding.Latin1); } // the properties format's own encoding; \u escapes carry the rest
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DxlConfigException($"the broker list file cannot be read ({e.Message})", full, null, null, e);
        }
        var brokers = Parse(text, full, webSocket);
        if (brokers.Count == 0) throw new DxlConfigException("the broker list file names no broker", full);
        return brokers;
    }

    /// <summary>Parses properties text; <paramref name="file"/> names the source in errors.</summary>
    public static IReadOnlyList<DxlBroker> Parse(string text, string? file = null, bool webSocket = false)
    {
        var result = new List<DxlBroker>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value, line) in Entries(text, file))
        {
            var broker = EpoAnswers.ParseBrokerEntry(key, value, webSocket, file, line);
            if (!seen.Add(key)) throw new DxlConfigException($"the broker '{key}' is listed twice", file, line, key);
            result.Add(broker);
        }
        return result;
    }

    private static IEnumerable<(string Key, string Value, int Line)> Entries(string text, string? file)
    {
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var startLine = i + 1;
            var logical = lines[i].TrimStart(' ', '\t', '\f');
            if (i == 0) logical = logical.TrimStart('\uFEFF');
            if (logical.Length == 0 || logical[0] is '#' or '!') continue;
            // A line ending in an odd number of backslashes continues on the next one (leading blanks dropped).
            while (EndsWithContinuation(logical) && i + 1 < lines.Length)
                logical = logical[..^1] + lines[++i].TrimStart(' ', '\t', '\f');
            if (EndsWithContinuation(logical)) logical = logical[..^1];
            var (rawKey, rawValue) = SplitKeyValue(logical);
            yield return (Unescape(rawKey, file, startLine), Unescape(rawValue, file, startLine).Trim(), startLine);
        }
    }

    private static bool EndsWithContinuation(string s)
    {
        var n = 0;
        for (var j = s.Length - 1; j >= 0 && s[j] == '\\'; j--) n++;
        return n % 2 == 1;
    }

    /// <summary>The key ends at the first unescaped '=', ':' or blank; the separator and blanks around it are dropped.</summary>
    private static (string Key, string Value) SplitKeyValue(string line)
    {
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c == '\\') { i += 2; continue; }
            if (c is '=' or ':' or ' ' or '\t' or '\f') break;
            i++;
        }
        var key = line[..Math.Min(i, line.Length)];
        var j = i;
        while (j < line.Length && line[j] is ' ' or '\t' or '\f') j++;
        if (j < line.Length && line[j] is '=' or ':') j++;
        while (j < line.Length && line[j] is ' ' or '\t' or '\f') j++;
        return (key, j < line.Length ? line[j..] : "");
    }

    private static string Unescape(string s, string? file, int line)
    {
        if (!s.Contains('\\')) return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 >= s.Length) { sb.Append(s[i]); continue; }
            var c = s[++i];
            switch (c)
            {
                case 't': sb.Append('\t'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 'f': sb.Append('\f'); break;
                case 'u':
                    if (s.Length - i - 1 < 4 ||
                        !int.TryParse(s.AsSpan(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                        throw new DxlConfigException("a \\u escape needs four hexadecimal digits", file, line);
                    sb.Append((char)code);
                    i += 4;
                    break;
                default: sb.Append(c); break; // \: \= \\ \# \! and any other escaped character stand for themselves
            }
        }
        return sb.ToString();
    }
}
