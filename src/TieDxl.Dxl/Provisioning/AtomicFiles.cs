using System.Security.AccessControl;
using System.Security.Principal;

namespace TieDxl.Dxl.Provisioning;

/// <summary>One file to write: its final path, its bytes, and whether only the current user may read it.</summary>
public sealed record PlannedFile(string Path, byte[] Content, bool OwnerOnly = false);

/// <summary>
/// Writes a set of files so that none is half-written: each goes to a temporary sibling first and is renamed over
/// its target only once every file of the set has been staged. A rename within a folder replaces the target in
/// one step, so readers see the old file or the new one.
/// </summary>
public static class AtomicFiles
{
    /// <summary>Writes every file, in order. On failure the staged temporaries are removed and no target was touched
    /// unless the failure came during the renames.</summary>
    public static void WriteAll(IReadOnlyList<PlannedFile> files)
    {
        var staged = new List<(string Temp, string Target)>();
        try
        {
            foreach (var f in files)
            {
                var target = System.IO.Path.GetFullPath(f.Path);
                var dir = System.IO.Path.GetDirectoryName(target)!;
                Directory.CreateDirectory(dir);
                var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
                WriteNew(temp, f.Content, f.OwnerOnly);
                staged.Add((temp, target));
            }
            foreach (var (temp, target) in staged) File.Move(temp, target, overwrite: true);
            staged.Clear();
        }
        finally
        {
            foreach (var (temp, _) in staged)
            {
                // Best effort: the failure that brought us here is what the caller must see; a leftover hidden
                // .tmp file holds no secret the target would not, and it is owner-only when the target is.
                try { File.Delete(temp); }
                catch (IOException) { /* left behind; see above */ }
                catch (UnauthorizedAccessException) { /* left behind; see above */ }
            }
        }
    }

    /// <summary>Creates a new file; owner-only files are created with those permissions, never widened then narrowed.</summary>
    private static void WriteNew(string path, byte[] content, bool ownerOnly)
    {
        if (ownerOnly && OperatingSystem.IsWindows())
        {
            using var secured = new FileInfo(path).Create(FileMode.CreateNew, FileSystemRights.FullControl, FileShare.None, 4096, FileOptions.None, CurrentUserOnly());
            secured.Write(content);
            return;
        }
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (ownerOnly && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(content);
    }

    /// <summary>Access for the current user alone, nothing inherited: for files only their owner may read (keys, journals).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    public static FileSecurity CurrentUserOnly()
    {
        var security = new FileSecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false); // no inherited access for others
        var me = WindowsIdentity.GetCurrent().User!;
        security.SetOwner(me);
        security.AddAccessRule(new FileSystemAccessRule(me, FileSystemRights.FullControl, AccessControlType.Allow));
        return security;
    }
}
