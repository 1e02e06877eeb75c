using System.Security.AccessControl;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TieDxl.Dxl.Provisioning;

namespace TieDxl.Tie;

/// <summary>What a journal line records about one change.</summary>
public enum TieJournalStatus
{
    /// <summary>Written just before the change was sent: a run killed before its outcome line still shows it may have reached TIE.</summary>
    Pending,
    Sent,
    Skipped,
    Unchanged,
    Failed,
}

/// <summary>Whether a journal line records a set or the undo of one.</summary>
public enum TieJournalOperation
{
    Set,
    Undo,
}

/// <summary>What a journal line is about.</summary>
public enum TieJournalSubject
{
    File,
    Certificate,
}

/// <summary>
/// One line of a journal: when, by whom, which file or certificate, which provider, the trust level before, asked
/// for and after, and what happened. A change that was sent has two lines with one <see cref="OperationId"/>: Pending
/// (written before sending) and its outcome.
/// </summary>
public sealed record TieJournalEntry
{
    /// <summary>The marker every journal line starts with; a line without it is not ours.</summary>
    public const string FormatName = "TieDxl.Journal";
    public const int CurrentVersion = 1;

    // Declared first so that every line starts with the marker (System.Text.Json writes in declaration order).
    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;

    /// <summary>When the line was written (UTC).</summary>
    public DateTimeOffset Time { get; init; }
    public Guid OperationId { get; init; }
    public TieJournalOperation Operation { get; init; }

    /// <summary>Subject of this client's certificate (who made the change).</summary>
    public string? ClientSubject { get; init; }
    public string? ClientId { get; init; }

    public TieJournalSubject Subject { get; init; }
    public string? Md5 { get; init; }

    /// <summary>A file's SHA-1, or a certificate's (the SHA-1 of its DER form).</summary>
    public string? Sha1 { get; init; }
    public string? Sha256 { get; init; }

    /// <summary>Certificates: the SHA-1 of the public key, when known.</summary>
    public string? PublicKeySha1 { get; init; }

    /// <summary>The file name sent to TIE, or the certificate's subject.</summary>
    public string? Name { get; init; }

    /// <summary>External reports: the file type sent.</summary>
    public FileType? FileType { get; init; }

    /// <summary>15 External (files), 3 Enterprise (files), 4 Enterprise (certificates).</summary>
    public int ProviderId { get; init; }

    /// <summary>External or Enterprise.</summary>
    public string Provider => ProviderId == (int)FileProvider.External ? "External" : "Enterprise";

    /// <summary>The provider's trust level before the change (NotSet where it had none); null when not looked up.</summary>
    public TrustLevel? TrustLevelBefore { get; init; }
    public TrustLevel TrustLevelRequested { get; init; }

    /// <summary>The provider's trust level after the change as far as this client knows; null while pending or unknown.</summary>
    public TrustLevel? TrustLevelAfter { get; init; }
    public TieJournalStatus Status { get; init; }
    public string? Comment { get; init; }

    /// <summary>Why it was skipped, unchanged or failed.</summary>
    public string? Reason { get; init; }

    /// <summary>The journal the line was read from (not written).</summary>
    [JsonIgnore]
    public string? JournalPath { get; init; }

    /// <summary>The line number in that journal (not written).</summary>
    [JsonIgnore]
    public int LineNumber { get; init; }

    /// <summary>The file's hashes (files only).</summary>
    [JsonIgnore]
    public TieHashes Hashes => TieHashes.Create(Md5, Subject == TieJournalSubject.File ? Sha1 : null, Sha256);

    /// <summary>The reputation this line is about: one provider of one file or certificate.</summary>
    [JsonIgnore]
    public string SubjectKey => $"{Subject}:{ProviderId}:{(Subject == TieJournalSubject.Certificate ? Sha1 : Sha256 ?? Sha1 ?? Md5)}";

    public override string ToString() => Subject == TieJournalSubject.Certificate
        ? $"certificate SHA1:{Sha1}{(Name is null ? "" : $" ({Name})")}"
        : TieTargetName();

    private string TieTargetName()
    {
        var hash = Sha256 is not null ? $"SHA256:{Sha256}" : Sha1 is not null ? $"SHA1:{Sha1}" : $"MD5:{Md5}";
        return Name is null ? hash : $"{hash} ({Name})";
    }
}

/// <summary>A journal that cannot be read or written; <see cref="Path"/> names it.</summary>
public sealed class TieJournalException(string path, string message, bool isWriteFailure = false, Exception? inner = null)
    : Exception($"Journal '{path}': {message}", inner)
{
    public string Path { get; } = path;

    /// <summary>True when writing failed; false when the file is not a journal or cannot be read.</summary>
    public bool IsWriteFailure { get; } = isWriteFailure;
}

/// <summary>
/// The journal format: one JSON object per line, each starting with the format marker. Writing appends and flushes
/// each line to disk; reading ignores a line torn by a killed writer, with a warning.
/// </summary>
public static class TieJournal
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>How every line starts; a torn line that starts like it (or is shorter) was cut off by a killed writer.</summary>
    private static readonly string LinePrefix = $"{{\"format\":\"{TieJournalEntry.FormatName}\"";

    internal static string Serialize(TieJournalEntry entry) => JsonSerializer.Serialize(entry, Json);

    /// <summary>
    /// Every entry of the journal at <paramref name="path"/>, in file order. A torn line is skipped and reported to
    /// <paramref name="warn"/>; a file that is not a journal, or a broken line that is not torn, throws
    /// <see cref="TieJournalException"/> naming the file (and line).
    /// </summary>
    public static IReadOnlyList<TieJournalEntry> Read(string path, Action<string>? warn = null)
    {
        string text;
        try
        {
            // Shared for writing: a running job may be appending to it.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            text = reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TieJournalException(path, $"cannot be read: {e.Message}", inner: e);
        }
        var lines = text.Split('\n');
        var entries = new List<TieJournalEntry>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0) continue;
            var isLast = i == lines.Length - 1;
            if (Parse(line) is { } entry)
            {
                entries.Add(entry with { JournalPath = path, LineNumber = i + 1 });
                continue;
            }
            if (!IsTorn(line, isLast))
                throw new TieJournalException(path, entries.Count == 0
                    ? $"is not a TieDxl journal (line {i + 1} is not a journal line)."
                    : $"line {i + 1} is not a journal line.");
            warn?.Invoke($"Journal '{path}': line {i + 1} is incomplete (a run was stopped while writing it) and was ignored.");
        }
        return entries;
    }

    /// <summary>Throws <see cref="TieJournalException"/> unless the file is empty or its first line is a journal line.</summary>
    internal static void RequireJournal(string path)
    {
        string? first;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            first = reader.ReadLine();
            if (first is not null && Parse(first) is null && !IsTorn(first, reader.Peek() < 0))
                throw new TieJournalException(path, "is not a TieDxl journal; give a new file or an existing journal.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TieJournalException(path, $"cannot be read: {e.Message}", inner: e);
        }
    }

    /// <summary>The entry on one line, or null when it is not a complete journal line.</summary>
    private static TieJournalEntry? Parse(string line)
    {
        // The marker must be there, not defaulted: other JSON would otherwise read as an entry.
        if (!line.StartsWith(LinePrefix, StringComparison.Ordinal)) return null;
        try
        {
            var entry = JsonSerializer.Deserialize<TieJournalEntry>(line, Json);
            return entry is { Format: TieJournalEntry.FormatName, Version: >= 1 } ? entry : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// A line cut off by a killed writer: the last line of the file, or one a later run appended after (the writer
    /// ends a torn line before appending), that starts like a journal line or is a cut-off start of one.
    /// </summary>
    private static bool IsTorn(string line, bool isLast) =>
        line.StartsWith(LinePrefix, StringComparison.Ordinal) || (isLast && LinePrefix.StartsWith(line, StringComparison.Ordinal));

    /// <summary>
    /// The changes of <paramref name="entries"/> an undo restores, newest first: every Sent change, and every Pending
    /// one whose outcome line is missing (the run was stopped after sending it, so TIE may have it). Changes to the
    /// same reputation are in one group, newest first, so that they are undone one after the other; groups are
    /// ordered by their newest change, newest first.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<TieJournalEntry>> PlanUndo(IEnumerable<TieJournalEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var all = entries.Select((entry, index) => (Entry: entry, Index: index)).ToList();
        var completed = all.Where(e => e.Entry.Status != TieJournalStatus.Pending).Select(e => e.Entry.OperationId).ToHashSet();
        return all
            .Where(e => e.Entry.Status == TieJournalStatus.Sent
                        || (e.Entry.Status == TieJournalStatus.Pending && !completed.Contains(e.Entry.OperationId)))
            .GroupBy(e => e.Entry.SubjectKey)
            .Select(g => g.OrderByDescending(e => e.Entry.Time).ThenByDescending(e => e.Index).ToList())
            .OrderByDescending(g => g[0].Entry.Time).ThenByDescending(g => g[0].Index)
            .Select(g => (IReadOnlyList<TieJournalEntry>)g.Select(e => e.Entry).ToArray())
            .ToArray();
    }
}

/// <summary>
/// Appends journal lines, each flushed to disk as written, so that a killed run loses nothing it did. The file is
/// shared for reading, created owner-only where the platform allows, and created only by the first line (a run that
/// changes nothing, or -WhatIf, leaves no file). Safe for concurrent use.
/// </summary>
public sealed class TieJournalWriter : IDisposable
{
    private readonly object _gate = new();     // the file and the count of lines written
    private readonly object _diskGate = new(); // one flush to disk at a time, and what it covered
    private FileStream? _stream;
    private bool _disposed;
    private long _written;
    private long _onDisk;

    private TieJournalWriter(string path) => Path = path;

    /// <summary>The full path of the journal.</summary>
    public string Path { get; }

    /// <summary>Checks that <paramref name="path"/> can be a journal: its folder exists and, if the file exists, it is one.</summary>
    public static TieJournalWriter Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new TieJournalException(full, "is a folder; give a file name.");
        var folder = System.IO.Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder)) throw new TieJournalException(full, $"its folder '{folder}' does not exist.");
        if (File.Exists(full)) TieJournal.RequireJournal(full);
        return new TieJournalWriter(full);
    }

    /// <summary>
    /// Appends one line and returns once it is on disk; <see cref="TieJournalException"/> when that fails. The line
    /// is handed to the operating system at once (a killed process loses nothing); the flush to disk is shared by
    /// the lines that concurrent appends wrote meanwhile, so a bulk run pays one flush per batch, not per line.
    /// </summary>
    public void Append(TieJournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var line = Encoding.UTF8.GetBytes(TieJournal.Serialize(entry) + "\n");
        long number;
        lock (_gate)
        {
            Guarded(() =>
            {
                _stream ??= OpenForAppend(Path);
                _stream.Write(line);
            });
            number = ++_written;
        }
        lock (_diskGate)
        {
            if (_onDisk >= number) return; // a flush since this line was written covered it
            long written;
            lock (_gate)
            {
                written = _written;
                Guarded(() => _stream!.Flush(flushToDisk: true));
            }
            _onDisk = written;
        }
    }

    /// <summary>Runs one step on the open file (under the write lock); its failure is a <see cref="TieJournalException"/>.</summary>
    private void Guarded(Action step)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            step();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TieJournalException(Path, $"cannot be written: {e.Message}", isWriteFailure: true, inner: e);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _stream?.Dispose();
            _stream = null;
        }
    }

    private static FileStream OpenForAppend(string path)
    {
        var stream = File.Exists(path) ? OpenExisting(path) : CreateOwnerOnly(path);
        // A line torn by a killed run is ended here, so the next line starts on a line of its own.
        if (stream.Length > 0 && LastByte(path, stream.Length) != (byte)'\n') stream.Write("\n"u8);
        return stream;
    }

    private static FileStream OpenExisting(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 });

    private static FileStream CreateOwnerOnly(string path)
    {
        try
        {
            if (OperatingSystem.IsWindows())
                return new FileInfo(path).Create(FileMode.CreateNew, FileSystemRights.FullControl, FileShare.Read, 0, FileOptions.None, AtomicFiles.CurrentUserOnly());
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it meanwhile: append to it like to any existing journal.
            return OpenExisting(path);
        }
    }

    private static int LastByte(string path, long length)
    {
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        reader.Position = length - 1;
        return reader.ReadByte();
    }
}
