namespace TieDxl.Tests;

public class SmokeTests
{
    [Fact]
    public void NewIdIsBracedLowerCaseUuid()
    {
        var id = TieDxl.Dxl.Messages.DxlMessage.NewId();
        Assert.Matches("^\\{[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\\}$", id);
    }
}
