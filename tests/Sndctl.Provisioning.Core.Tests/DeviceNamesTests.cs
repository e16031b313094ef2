namespace Sndctl.Provisioning.Core.Tests;

public sealed class DeviceNamesTests
{
    [Theory]
    [InlineData("abc123def456")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("a-b")]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk")]
    public void IsValidDeviceId_DnsLabel_True(string id) => Assert.True(DeviceNames.IsValidDeviceId(id));

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData("ABC")]
    [InlineData("a.b")]
    [InlineData("a_b")]
    [InlineData("a b")]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl")]
    [InlineData("é")]
    public void IsValidDeviceId_NotDnsLabel_False(string? id) => Assert.False(DeviceNames.IsValidDeviceId(id));

    [Theory]
    [InlineData("devices.localhost", true)]
    [InlineData("sonoshub.io", true)]
    [InlineData("localhost", false)]
    [InlineData("Devices.example.com", false)]
    [InlineData("devices..example.com", false)]
    [InlineData("", false)]
    public void IsValidBaseDomain_Cases(string domain, bool valid) => Assert.Equal(valid, DeviceNames.IsValidBaseDomain(domain));

    [Fact]
    public void NewDeviceId_Is12LowerHexAndNeverNumericLooking()
    {
        for (var i = 0; i < 2000; i++)
        {
            var id = DeviceNames.NewDeviceId();
            Assert.Matches("^[0-9a-f]{12}$", id);
            Assert.False(DeviceNames.LooksNumeric(id));
        }
    }

    [Theory]
    [InlineData("123456789012", true)]
    [InlineData("12345e678901", true)]
    [InlineData("e12345678901", false)]
    [InlineData("12345678901e", false)]
    [InlineData("1234a5678901", false)]
    public void LooksNumeric_SpreadsheetNumbers(string id, bool numeric) => Assert.Equal(numeric, DeviceNames.LooksNumeric(id));

    [Fact]
    public void NewSecret_Carries256BitsAndNeverStartsWithDash()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 2000; i++)
        {
            var secret = DeviceNames.NewSecret();
            Assert.Equal(43, secret.Length);
            Assert.NotEqual('-', secret[0]);
            Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(secret).Length);
            Assert.True(seen.Add(secret));
        }
    }
}
