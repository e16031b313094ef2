using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// Counts failed authentications per device ID and per client address in fixed windows, and refuses
/// further attempts from either until the window ends. Per instance and in memory: an attacker
/// spread over instances gets at most one allowance per instance.
/// </summary>
internal sealed class FailedAuthenticationThrottle(TimeProvider time, IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
{
    private const int SweepThreshold = 50_000;
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>How long the caller must wait, or <see langword="null"/> when it may try.</summary>
    public TimeSpan? RetryAfter(string? deviceId, string? clientAddress)
    {
        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        var device = deviceId is null ? null : Blocked(DeviceKey(deviceId), o.MaxFailuresPerDevice, now);
        var client = clientAddress is null ? null : Blocked(ClientKey(clientAddress), o.MaxFailuresPerClient, now);
        return (device, client) switch
        {
            (null, null) => null,
            ({ } d, null) => d,
            (null, { } c) => c,
            ({ } d, { } c) => d > c ? d : c,
        };
    }

    public void RecordFailure(string? deviceId, string? clientAddress)
    {
        var now = time.GetUtcNow();
        var window = options.CurrentValue.FailureWindow;
        if (deviceId is not null)
        {
            Increment(DeviceKey(deviceId), now, window);
        }

        if (clientAddress is not null)
        {
            Increment(ClientKey(clientAddress), now, window);
        }

        if (_windows.Count > SweepThreshold)
        {
            foreach (var (key, value) in _windows)
            {
                if (value.EndsAt <= now)
                {
                    _windows.TryRemove(new KeyValuePair<string, Window>(key, value));
                }
            }
        }
    }

    public void RecordSuccess(string deviceId) => _windows.TryRemove(DeviceKey(deviceId), out _);

    private TimeSpan? Blocked(string key, int limit, DateTimeOffset now)
        => _windows.TryGetValue(key, out var w) && w.EndsAt > now && w.Count >= limit ? w.EndsAt - now : null;

    private void Increment(string key, DateTimeOffset now, TimeSpan length)
        => _windows.AddOrUpdate(
            key,
            _ => new Window(now + length, 1),
            (_, w) => w.EndsAt <= now ? new Window(now + length, 1) : w with { Count = w.Count + 1 });

    private static string DeviceKey(string deviceId) => "d:" + deviceId;

    private static string ClientKey(string address) => "c:" + address;

    private sealed record Window(DateTimeOffset EndsAt, int Count);
}
