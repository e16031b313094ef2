using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Hashes device secrets with HMAC-SHA256 under a deployment key. Secrets carry 256 random bits, so a
/// fast keyed hash is as strong as a slow KDF here and costs microseconds instead of milliseconds
/// on every device call. The key is made once, kept in the issuer-state store encrypted with
/// Data Protection, and shared by every instance.
/// </summary>
internal sealed class DeviceSecretHasher(IServiceScopeFactory scopes, IDataProtectionProvider dataProtection) : IDisposable
{
    internal const string StateKey = "device-secrets/hmac-sha256-key";
    private static readonly byte[] s_dummyHash = new byte[32];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectionPurposes.DeviceSecretKey);
    private byte[]? _key;

    public async ValueTask<byte[]> HashAsync(string secret, CancellationToken cancellationToken)
    {
        var key = _key ?? await LoadKeyAsync(cancellationToken).ConfigureAwait(false);
        return Hash(key, secret);
    }

    /// <summary>
    /// Which of <paramref name="device"/>'s secrets <paramref name="secret"/> is: its secret, the pending one it asked
    /// for, or neither. Both hashes are compared whatever the answer (a missing one against a dummy), in constant time.
    /// </summary>
    public async ValueTask<SecretMatch> MatchAsync(string? secret, Device? device, CancellationToken cancellationToken)
    {
        var key = _key ?? await LoadKeyAsync(cancellationToken).ConfigureAwait(false);
        var actual = Hash(key, secret ?? string.Empty);
        var current = CryptographicOperations.FixedTimeEquals(actual, device?.SecretHash ?? s_dummyHash);
        var pending = CryptographicOperations.FixedTimeEquals(actual, device?.PendingSecretHash ?? s_dummyHash);
        return secret is null || device is null ? SecretMatch.None
            : current ? SecretMatch.Current
            : pending && device.PendingSecretHash is not null ? SecretMatch.Pending
            : SecretMatch.None;
    }

    internal static byte[] Hash(byte[] key, string secret)
    {
        Span<byte> buffer = stackalloc byte[Encoding.UTF8.GetMaxByteCount(DeviceNames.MaxSecretLength)];
        if (secret.Length > DeviceNames.MaxSecretLength)
        {
            secret = secret[..DeviceNames.MaxSecretLength];
        }

        var length = Encoding.UTF8.GetBytes(secret, buffer);
        return HMACSHA256.HashData(key, buffer[..length]);
    }

    private async Task<byte[]> LoadKeyAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_key is not null)
            {
                return _key;
            }

            // The store is scoped (it may be an EF DbContext); this hasher is a singleton.
            var scope = scopes.CreateAsyncScope();
            await using var scopeDisposal = scope.ConfigureAwait(false);
            var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
            var candidate = _protector.Protect(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            var stored = await state.GetOrAddAsync(StateKey, candidate, cancellationToken).ConfigureAwait(false);
            return _key = Convert.FromBase64String(_protector.Unprotect(stored));
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}

/// <summary>Which secret of a device a presented secret is.</summary>
internal enum SecretMatch
{
    None,
    Current,
    Pending,
}
