using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AspNetCore;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Sndctl.Provisioning.Benchmarks;

/// <summary>
/// The failed-authentication throttle under a spray of distinct keys (every failure a new device ID
/// from a new IPv6 /64): the table stays at its cap, so the cost per failure must not grow with the
/// number of keys an attacker has used.
/// </summary>
[MemoryDiagnoser]
public class ThrottleBenchmarks
{
    private FailedAuthenticationThrottle _throttle = null!;
    private string[] _devices = [];
    private IPAddress[] _clients = [];

    [Params(1_000_000)]
    public int DistinctKeys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new DeviceProvisioningAspNetCoreOptions();
        _throttle = new FailedAuthenticationThrottle(TimeProvider.System, new FixedOptions(options));
        _devices = [.. Enumerable.Range(0, DistinctKeys).Select(i => "device" + i)];
        _clients = [.. Enumerable.Range(0, DistinctKeys).Select(i =>
        {
            var bytes = new byte[16];
            bytes[0] = 0x20;
            bytes[1] = 0x01;
            BitConverter.TryWriteBytes(bytes.AsSpan(4, 4), i);
            return new IPAddress(bytes);
        })];
    }

    [GlobalCleanup]
    public void Cleanup() => _throttle.Dispose();

    /// <summary>A million failures, each under a new device ID and a new /64; reports the cost of all of them.</summary>
    [Benchmark(OperationsPerInvoke = 1_000_000)]
    public int SprayDistinctKeys()
    {
        for (var i = 0; i < DistinctKeys; i++)
        {
            _throttle.DeviceFailed(_devices[i], _clients[i]);
        }

        return _throttle.Count;
    }

    /// <summary>Repeated failures of one device from one address (the throttled steady state).</summary>
    [Benchmark]
    public TimeSpan? RepeatedFailure() => _throttle.DeviceFailed("device0", _clients[0]);

    private sealed class FixedOptions(DeviceProvisioningAspNetCoreOptions value) : IOptionsMonitor<DeviceProvisioningAspNetCoreOptions>
    {
        public DeviceProvisioningAspNetCoreOptions CurrentValue => value;

        public DeviceProvisioningAspNetCoreOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<DeviceProvisioningAspNetCoreOptions, string?> listener) => null;
    }
}
