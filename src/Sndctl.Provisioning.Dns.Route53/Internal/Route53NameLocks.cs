namespace Sndctl.Provisioning.Dns.Route53.Internal;

/// <summary>
/// Serialises read-modify-write of one record set within this process (64 striped locks), so
/// concurrent challenges here do not spend Route53 calls on conflicts. Other instances are kept
/// apart by the compare-and-swap batches in <see cref="Route53Api"/>.
/// </summary>
internal sealed class Route53NameLocks
{
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<IDisposable> AcquireAsync(string name, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(int)((uint)StringComparer.OrdinalIgnoreCase.GetHashCode(name.TrimEnd('.')) % (uint)_stripes.Length)];
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(stripe);
    }

    private sealed class Releaser(SemaphoreSlim stripe) : IDisposable
    {
        private SemaphoreSlim? _stripe = stripe;

        public void Dispose() => Interlocked.Exchange(ref _stripe, null)?.Release();
    }
}
