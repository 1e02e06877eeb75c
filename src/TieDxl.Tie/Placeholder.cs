namespace TieDxl.Tie;
internal static class Placeholder { }
