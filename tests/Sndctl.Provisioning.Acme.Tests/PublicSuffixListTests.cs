using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>The registered domain Let's Encrypt counts by, from the Public Suffix List shipped in the package (cases from the list's own test file).</summary>
public sealed class PublicSuffixListTests
{
    private static readonly PublicSuffixList s_list = PublicSuffixList.Load(null);

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("a1b2c3d4e5f6.devices.example.com", "example.com")]
    [InlineData("WWW.Example.COM.", "example.com")]
    [InlineData("device.fleet.example.co.uk", "example.co.uk")]
    [InlineData("b.example.uk.com", "example.uk.com")] // private section: counts at Let's Encrypt too
    [InlineData("x.devices.example.test", "example.test")] // unlisted TLD: the default rule "*"
    [InlineData("b.c.kobe.jp", "b.c.kobe.jp")] // *.kobe.jp
    [InlineData("www.city.kobe.jp", "city.kobe.jp")] // !city.kobe.jp
    [InlineData("www.www.ck", "www.ck")] // !www.ck under *.ck
    [InlineData("a.b.test.ck", "b.test.ck")]
    [InlineData("device.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn")]
    public void The_registered_domain_is_the_public_suffix_and_one_label(string name, string registered)
        => Assert.Equal(registered, s_list.RegisteredDomain(name));

    [Theory]
    [InlineData("com")]
    [InlineData("co.uk")]
    [InlineData("c.kobe.jp")]
    [InlineData("github.io")]
    public void A_public_suffix_has_no_registered_domain(string name) => Assert.Null(s_list.RegisteredDomain(name));

    [Fact]
    public void A_newer_list_is_read_from_a_file()
    {
        var list = PublicSuffixList.Parse(new StringReader("// comment\ncom\n*.fleet.example\n!keep.fleet.example\n"));
        Assert.Equal(3, list.RuleCount);
        Assert.Equal("x.y.fleet.example", list.RegisteredDomain("a.x.y.fleet.example"));
        Assert.Equal("keep.fleet.example", list.RegisteredDomain("a.keep.fleet.example"));
        Assert.True(s_list.RuleCount > 5_000);
    }
}
