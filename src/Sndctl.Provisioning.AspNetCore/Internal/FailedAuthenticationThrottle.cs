using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// Counts failed authentications in fixed windows per device ID, per client network (device calls)
/// and per client network (admin calls), and says how long a caller whose count reached its limit
/// must wait. It throttles failures only: callers check credentials first and consult the throttle
/// only when they failed, so a correct secret or key always gets through, whatever strangers did.
/// </summary>
/// <remarks>
/// Memory is bounded: at most <see cref="DeviceProvisioningAspNetCoreOptions.FailureTrackingCapacity"/>
/// windows are kept. Windows all have the same length, so the order in which they were opened is the
/// order in which they end: a queue in that order lets each failure drop a few ended windows from its
/// head (and the oldest live ones when the table is full) and a timer sweep the rest, without any
/// request walking the table. Evicting a live window only lifts throttling of wrong guesses early; it
/// can never refuse a right one. Per instance and in memory (see docs/security.md for why that is enough).
/// </remarks>
internal sealed class FailedAuthenticationThrottle : IDisposable
{
    private const int TrimStepsPerFailure = 16;
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Key, Window Window)> _opened = new();
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> _options;
    private readonly ITimer _sweeper;

    // ConcurrentDictionary.Count takes every lock and ConcurrentQueue.Count snapshots the segments:
    // both far too slow to ask on each failure, so both sizes are kept here.
    private int _kept;
    private int _queued;

    public FailedAuthenticationThrottle(TimeProvider time, IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        _time = time;
        _options = options;
        _sweeper = time.CreateTimer(_ => Sweep(), null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    /// <summary>Windows currently kept (for tests and benchmarks).</summary>
    public int Count => Volatile.Read(ref _kept);

    /// <summary>
    /// Records a failed device authentication and returns how long further failures for this device or
    /// from this client network are refused, or <see langword="null"/> while neither reached its limit.
    /// </summary>
    public TimeSpan? DeviceFailed(string deviceId, IPAddress? client)
    {
        var o = _options.CurrentValue;
        var now = _time.GetUtcNow().UtcTicks;
        var device = Fail("d:" + deviceId, o.MaxFailuresPerDevice, now, o);
        var network = client is null ? null : Fail("c:" + ClientNetwork.KeyOf(client), o.MaxFailuresPerClient, now, o);
        return Longest(device, network);
    }

    /// <summary>Records a failed admin authentication; how long further failures from this client network are refused.</summary>
    public TimeSpan? AdminFailed(IPAddress? client)
    {
        var o = _options.CurrentValue;
        return client is null ? null : Fail("a:" + ClientNetwork.KeyOf(client), o.MaxFailuresPerClient, _time.GetUtcNow().UtcTicks, o);
    }

    /// <summary>Drops every window that has ended (timer; also callable from tests).</summary>
    public void Sweep() => Trim(_time.GetUtcNow().UtcTicks, int.MaxValue, _options.CurrentValue.FailureTrackingCapacity);

    public void Dispose() => _sweeper.Dispose();

    /// <summary>Counts one failure under <paramref name="key"/>; the wait when the count is over <paramref name="limit"/>.</summary>
    private TimeSpan? Fail(string key, int limit, long now, DeviceProvisioningAspNetCoreOptions o)
    {
        Window window;
        int count;
        while (true)
        {
            if (_windows.TryGetValue(key, out var current))
            {
                if (current.EndsAt > now)
                {
                    window = current;
                    count = window.Increment();
                    break;
                }

                var renewed = new Window(now + o.FailureWindow.Ticks);
                if (_windows.TryUpdate(key, renewed, current))
                {
                    (window, count) = (renewed, 1);
                    Enqueue(key, renewed);
                    break;
                }
            }
            else
            {
                var opened = new Window(now + o.FailureWindow.Ticks);
                if (_windows.TryAdd(key, opened))
                {
                    Interlocked.Increment(ref _kept);
                    (window, count) = (opened, 1);
                    Enqueue(key, opened);
                    break;
                }
            }
        }

        Trim(now, TrimStepsPerFailure, o.FailureTrackingCapacity);
        return count > limit ? TimeSpan.FromTicks(window.EndsAt - now) : null;
    }

    /// <summary>
    /// Drops ended windows from the head of the queue (at most <paramref name="steps"/>), then the oldest
    /// live ones while more than <paramref name="capacity"/> are kept. Each failure adds at most one
    /// window, so evicting as many as it takes keeps the table at the cap in amortized constant time.
    /// </summary>
    private void Trim(long now, int steps, int capacity)
    {
        while (_opened.TryPeek(out var head))
        {
            var ended = head.Window.EndsAt <= now && steps-- > 0;
            var full = Volatile.Read(ref _kept) > capacity || Volatile.Read(ref _queued) > 2 * capacity;
            if (!ended && !full)
            {
                return;
            }

            if (_opened.TryDequeue(out head))
            {
                Interlocked.Decrement(ref _queued);

                // Only the very window that was queued: a key re-opened since has a newer entry behind.
                if (_windows.TryRemove(new KeyValuePair<string, Window>(head.Key, head.Window)))
                {
                    Interlocked.Decrement(ref _kept);
                }
            }
        }
    }

    private void Enqueue(string key, Window window)
    {
        _opened.Enqueue((key, window));
        Interlocked.Increment(ref _queued);
    }

    private static TimeSpan? Longest(TimeSpan? a, TimeSpan? b) => (a, b) switch
    {
        (null, _) => b,
        (_, null) => a,
        _ => a > b ? a : b,
    };

    /// <summary>One fixed window; compared by reference, so a queued entry removes only itself.</summary>
    private sealed class Window(long endsAt)
    {
        private int _count = 1;

        public long EndsAt { get; } = endsAt;

        public int Increment() => Interlocked.Increment(ref _count);
    }
}
