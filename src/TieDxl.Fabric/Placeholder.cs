namespace TieDxl.Fabric;
internal static class Placeholder { }
