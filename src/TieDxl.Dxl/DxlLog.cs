namespace TieDxl.Dxl;

public enum DxlLogLevel { Debug, Information, Warning, Error }

/// <summary>
/// Where the client writes diagnostics. Messages never carry key material or passwords.
/// The cmdlets route this to the verbose/debug streams; tests capture it.
/// </summary>
public delegate void DxlLogSink(DxlLogLevel level, string message);
