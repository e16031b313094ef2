using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// After the CA answers <c>rateLimited</c>, refuses new orders locally until its <c>Retry-After</c>
/// has passed, so a fleet retrying does not hammer the CA (and extend the limit). One gate per
/// process: Let's Encrypt's limits are per account and per registered domain, which every device
/// of a deployment shares. Also bounds the orders in flight at once.
/// </summary>
internal sealed class AcmeRateLimitGate(TimeProvider time, IOptionsMonitor<AcmeIssuerOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _orders = new(options.CurrentValue.MaxConcurrentOrders, options.CurrentValue.MaxConcurrentOrders);
    private const int MaxHeldNames = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _heldNames = new(StringComparer.OrdinalIgnoreCase);
    private long _closedUntilTicks;

    /// <summary>Waits for one of <see cref="AcmeIssuerOptions.MaxConcurrentOrders"/> order slots; dispose the result to free it.</summary>
    public async Task<IDisposable> EnterOrderAsync(CancellationToken cancellationToken)
    {
        await _orders.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Slot(_orders);
    }

    public void Dispose() => _orders.Dispose();

    private sealed class Slot(SemaphoreSlim orders) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                orders.Release();
            }
        }
    }

    /// <summary>When orders may be placed again, or <see langword="null"/> when open.</summary>
    public DateTimeOffset? ClosedUntil
    {
        get
        {
            var ticks = Interlocked.Read(ref _closedUntilTicks);
            return ticks > time.GetUtcNow().UtcTicks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        }
    }

    /// <summary>Closes the gate for the CA's <paramref name="retryAfter"/> (or the configured backoff); returns the wait.</summary>
    public TimeSpan Close(TimeSpan? retryAfter)
    {
        var wait = retryAfter is { } asked && asked > TimeSpan.Zero ? asked : options.CurrentValue.RateLimitBackoff;
        var until = time.GetUtcNow().UtcTicks + wait.Ticks;
        long current;
        do
        {
            current = Interlocked.Read(ref _closedUntilTicks);
            if (current >= until)
            {
                return TimeSpan.FromTicks(current - time.GetUtcNow().UtcTicks);
            }
        }
        while (Interlocked.CompareExchange(ref _closedUntilTicks, until, current) != current);

        return wait;
    }

    /// <summary>
    /// Holds back new orders for <paramref name="name"/> alone (a per-identifier limit such as duplicate
    /// certificates); returns the wait. At most 10,000 names are held; past that, ended holds are dropped
    /// and a new one is not kept (the CA then answers that device again, nobody else is affected).
    /// </summary>
    public TimeSpan HoldName(string name, TimeSpan? retryAfter)
    {
        var wait = retryAfter is { } asked && asked > TimeSpan.Zero ? asked : options.CurrentValue.RateLimitBackoff;
        var now = time.GetUtcNow().UtcTicks;
        if (_heldNames.Count >= MaxHeldNames)
        {
            foreach (var (held, until) in _heldNames)
            {
                if (until <= now)
                {
                    _heldNames.TryRemove(new KeyValuePair<string, long>(held, until));
                }
            }
        }

        if (_heldNames.Count < MaxHeldNames)
        {
            _heldNames[name] = now + wait.Ticks;
        }

        return wait;
    }

    /// <summary>Throws <see cref="CertificateAuthorityUnavailableException"/> while the gate is closed, for everyone or for <paramref name="name"/>.</summary>
    public void ThrowIfClosed(string name)
    {
        ThrowIfClosed();
        if (_heldNames.TryGetValue(name, out var until) && until > time.GetUtcNow().UtcTicks)
        {
            var at = new DateTimeOffset(until, TimeSpan.Zero);
            throw new CertificateAuthorityUnavailableException(
                $"The CA rate-limited certificates for {name}; no new order for it until {at:O}. Other devices are not affected.",
                at - time.GetUtcNow());
        }
    }

    /// <summary>Throws <see cref="CertificateAuthorityUnavailableException"/> while the gate is closed.</summary>
    public void ThrowIfClosed()
    {
        if (ClosedUntil is { } until)
        {
            var wait = until - time.GetUtcNow();
            throw new CertificateAuthorityUnavailableException(
                $"The CA rate-limited this deployment; no new orders until {until:O}.",
                wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1));
        }
    }
}
