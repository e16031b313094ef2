using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Sndctl.Provisioning.AspNetCore.Tests;

public sealed class FailedAuthenticationThrottleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Device_failed_past_the_device_limit_waits_until_the_window_ends()
    {
        using var throttle = Create(new() { MaxFailuresPerDevice = 3, MaxFailuresPerClient = 1000 });
        var client = IPAddress.Parse("198.51.100.7");

        for (var i = 0; i < 3; i++)
        {
            Assert.Null(throttle.DeviceFailed("dev1", client));
        }

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.FromMinutes(10), throttle.DeviceFailed("dev1", client));
        Assert.Null(throttle.DeviceFailed("dev2", client)); // another device's failures count apart

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(throttle.DeviceFailed("dev1", client)); // a new window
    }

    [Fact]
    public void Admin_failed_counts_apart_from_device_failures_at_the_same_address()
    {
        using var throttle = Create(new() { MaxFailuresPerDevice = 1000, MaxFailuresPerClient = 2 });
        var nat = IPAddress.Parse("203.0.113.9");
        for (var i = 0; i < 10; i++)
        {
            throttle.DeviceFailed("dev" + i, nat);
        }

        Assert.NotNull(throttle.DeviceFailed("another", nat));
        Assert.Null(throttle.AdminFailed(nat));
        Assert.Null(throttle.AdminFailed(nat));
        Assert.NotNull(throttle.AdminFailed(nat));
    }

    [Fact]
    public void Device_failed_IPv6_counted_per_64()
    {
        using var throttle = Create(new() { MaxFailuresPerDevice = 1000, MaxFailuresPerClient = 3 });
        for (var i = 1; i <= 3; i++)
        {
            Assert.Null(throttle.DeviceFailed("d" + i, IPAddress.Parse($"2001:db8:1:2::{i:x}")));
        }

        Assert.NotNull(throttle.DeviceFailed("d4", IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        Assert.Null(throttle.DeviceFailed("d5", IPAddress.Parse("2001:db8:1:3::1"))); // the next /64 is another network
    }

    [Fact]
    public void Device_failed_a_million_distinct_keys_stays_at_the_cap()
    {
        const int Capacity = 10_000;
        using var throttle = Create(new() { FailureTrackingCapacity = Capacity });
        Span<byte> address = stackalloc byte[16];
        address[0] = 0x20;
        address[1] = 0x01;
        for (var i = 0; i < 1_000_000; i++)
        {
            BitConverter.TryWriteBytes(address[4..8], i);
            throttle.DeviceFailed("device" + i, new IPAddress(address));
            Assert.True(throttle.Count <= Capacity + 2, $"{throttle.Count} windows kept after {i + 1} failures");
        }

        // The newest keys are the ones kept, and still throttled.
        Assert.True(throttle.Count >= Capacity - 2);
    }

    [Fact]
    public void Sweep_drops_ended_windows()
    {
        using var throttle = Create(new());
        for (var i = 0; i < 1_000; i++)
        {
            throttle.DeviceFailed("device" + i, null);
        }

        Assert.Equal(1_000, throttle.Count);
        _time.Advance(TimeSpan.FromMinutes(16)); // the timer sweeps every minute
        Assert.Equal(0, throttle.Count);
    }

    [Fact]
    public void Client_network_key_of_maps_IPv4_mapped_and_truncates_IPv6()
    {
        Assert.Equal("192.0.2.1", Core.ClientNetwork.KeyOf(IPAddress.Parse("::ffff:192.0.2.1")));
        Assert.Equal("2001:db8:1:2::/64", Core.ClientNetwork.KeyOf(IPAddress.Parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd")));
    }

    private FailedAuthenticationThrottle Create(DeviceProvisioningAspNetCoreOptions options)
        => new(_time, new StaticOptions(options));

    private sealed class StaticOptions(DeviceProvisioningAspNetCoreOptions value) : IOptionsMonitor<DeviceProvisioningAspNetCoreOptions>
    {
        public DeviceProvisioningAspNetCoreOptions CurrentValue => value;

        public DeviceProvisioningAspNetCoreOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<DeviceProvisioningAspNetCoreOptions, string?> listener) => null;
    }
}
