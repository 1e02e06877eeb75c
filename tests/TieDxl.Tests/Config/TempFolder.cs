namespace TieDxl.Tests.Config;

/// <summary>A scratch folder under the system temp path, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tiedxl-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string text)
    {
        var full = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }

    public string Combine(params string[] parts) => System.IO.Path.Combine(new[] { Path }.Concat(parts).ToArray());

    public void Dispose()
    {
        // A leftover temp folder fails no test; a file still open must not turn a passed test into a failure.
        try { Directory.Delete(Path, true); }
        catch (IOException) { /* left in the temp folder */ }
        catch (UnauthorizedAccessException) { /* left in the temp folder */ }
    }
}
