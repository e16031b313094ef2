namespace Sndctl.Provisioning.Core.Tests;

public sealed class DeviceNamesTests
{
    [Theory]
    [InlineData("abc123def456")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("a-b")]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk")]
    public void Is_valid_device_id_DNS_label_true(string id) => Assert.True(DeviceNames.IsValidDeviceId(id));

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
    public void Is_valid_device_id_not_DNS_label_false(string? id) => Assert.False(DeviceNames.IsValidDeviceId(id));

    [Theory]
    [InlineData("devices.localhost", true)]
    [InlineData("sonoshub.io", true)]
    [InlineData("localhost", false)]
    [InlineData("Devices.example.com", false)]
    [InlineData("devices..example.com", false)]
    [InlineData("", false)]
    public void Is_valid_base_domain_cases(string domain, bool valid) => Assert.Equal(valid, DeviceNames.IsValidBaseDomain(domain));

    [Fact]
    public void New_device_id_is_12_lower_hex_and_never_numeric_looking()
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
    public void Looks_numeric_spreadsheet_numbers(string id, bool numeric) => Assert.Equal(numeric, DeviceNames.LooksNumeric(id));

    [Fact]
    public void New_secret_carries_256_bits_and_never_starts_with_dash()
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
