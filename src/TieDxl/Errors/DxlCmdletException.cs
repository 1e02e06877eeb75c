namespace TieDxl;

/// <summary>The exception inside the module's own error records: its message is the record's message.</summary>
public sealed class DxlCmdletException : Exception
{
    public DxlCmdletException(string message) : base(message) { }
    public DxlCmdletException(string message, Exception inner) : base(message, inner) { }
}
