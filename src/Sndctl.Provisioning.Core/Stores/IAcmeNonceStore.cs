namespace Sndctl.Provisioning.Core;

/// <summary>
/// The ACME front door's used nonces (RFC 8555 §6.5): a nonce any instance issued is accepted by every
/// instance, once. Only used nonces are written, until they expire.
/// </summary>
public interface IAcmeNonceStore
{
    /// <summary>Records <paramref name="nonce"/> as used; false when it was used before (a replay).</summary>
    Task<bool> TryUseAsync(string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Forgets the nonces that expired before <paramref name="now"/> (they are refused by their age); returns how many.</summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
