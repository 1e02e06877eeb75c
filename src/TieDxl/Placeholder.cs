namespace TieDxl;
internal static class Placeholder { }
