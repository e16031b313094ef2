using System.Net;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>The product's one table of address ranges: the most specific range decides.</summary>
public sealed class AddressRangesTests
{
    [Theory]
    [InlineData("10.1.2.3", nameof(AddressKind.PrivateIPv4))]
    [InlineData("172.31.255.255", nameof(AddressKind.PrivateIPv4))]
    [InlineData("172.32.0.1", nameof(AddressKind.Public))]
    [InlineData("192.168.0.1", nameof(AddressKind.PrivateIPv4))]
    [InlineData("fd12:3456::1", nameof(AddressKind.UniqueLocal))]
    [InlineData("fd00:ec2::254", nameof(AddressKind.CloudMetadata))] // inside fc00::/7, but the more specific range wins
    [InlineData("fd00:ec2::23", nameof(AddressKind.CloudMetadata))]
    [InlineData("fd20:ce::254", nameof(AddressKind.CloudMetadata))]
    [InlineData("169.254.169.254", nameof(AddressKind.CloudMetadata))]
    [InlineData("169.254.1.1", nameof(AddressKind.LinkLocal))]
    [InlineData("100.100.100.200", nameof(AddressKind.CloudMetadata))]
    [InlineData("100.64.0.1", nameof(AddressKind.Transition))]
    [InlineData("100.128.0.1", nameof(AddressKind.Public))]
    [InlineData("64:ff9b::a9fe:a9fe", nameof(AddressKind.Transition))]
    [InlineData("64:ff9b:1::1", nameof(AddressKind.Transition))]
    [InlineData("2002:c0a8:101::1", nameof(AddressKind.Transition))]
    [InlineData("2001:0:4136:e378::1", nameof(AddressKind.Transition))]
    [InlineData("2001:db8::1", nameof(AddressKind.Reserved))]
    [InlineData("192.0.2.1", nameof(AddressKind.Reserved))]
    [InlineData("198.18.0.1", nameof(AddressKind.Reserved))]
    [InlineData("127.0.0.1", nameof(AddressKind.Loopback))]
    [InlineData("::1", nameof(AddressKind.Loopback))]
    [InlineData("::ffff:10.0.0.1", nameof(AddressKind.IPv4Mapped))]
    [InlineData("fe80::1", nameof(AddressKind.LinkLocal))]
    [InlineData("224.0.0.1", nameof(AddressKind.NotUnicast))]
    [InlineData("255.255.255.255", nameof(AddressKind.NotUnicast))]
    [InlineData("0.0.0.0", nameof(AddressKind.NotUnicast))]
    [InlineData("::", nameof(AddressKind.NotUnicast))]
    [InlineData("ff02::1", nameof(AddressKind.NotUnicast))]
    [InlineData("8.8.8.8", nameof(AddressKind.Public))]
    [InlineData("2606:4700::1111", nameof(AddressKind.Public))]
    public void Classify_an_address_gives_the_kind_of_its_most_specific_range(string address, string kind)
        => Assert.Equal(kind, AddressRanges.Classify(IPAddress.Parse(address)).ToString());

    [Fact]
    public void The_private_IPv4_ranges_are_RFC_1918()
        => Assert.Equal(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], AddressRanges.PrivateIPv4.Select(r => $"{r.Network}/{r.Prefix}"));

    [Theory]
    [InlineData("fd00:ec2::254")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("100.64.0.1")]
    [InlineData("2001::1")]
    public void Device_addresses_in_metadata_and_transition_ranges_are_refused_even_when_public_ones_are_allowed(string address)
    {
        Assert.False(DeviceAddresses.TryParse([address], allowPublic: true, out _, out var error));
        Assert.Contains(IPAddress.Parse(address).ToString(), error, StringComparison.Ordinal);
    }
}
