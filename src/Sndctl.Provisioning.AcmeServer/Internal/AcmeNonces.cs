using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// Nonces valid on every instance, accepted once (RFC 8555 §6.5). A nonce is its issue time, 8 random bytes and
/// a MAC over both under a key every instance shares (made once, kept in the issuer-state store encrypted with
/// Data Protection): any instance checks it without a lookup, so issuing one writes nothing. Using one writes it
/// to the nonce store (an insert that fails on a replay) until it expires by its age.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A singleton for the life of the process.")]
internal sealed class AcmeNonces(IServiceScopeFactory scopes, IDataProtectionProvider dataProtection, TimeProvider time, IOptionsMonitor<AcmeServerOptions> options)
{
    internal const string StateKey = "acme-server/nonce-key";
    private const int Length = 32;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Sndctl.Provisioning.AcmeServer.NonceKey.v1");
    private byte[]? _key;

    public async ValueTask<string> IssueAsync(CancellationToken cancellationToken)
    {
        var key = _key ?? await LoadKeyAsync(cancellationToken).ConfigureAwait(false);
        Span<byte> nonce = stackalloc byte[Length];
        BinaryPrimitives.WriteInt64BigEndian(nonce, time.GetUtcNow().ToUnixTimeMilliseconds());
        RandomNumberGenerator.Fill(nonce[8..16]);
        HMACSHA256.HashData(key, nonce[..16])[..16].CopyTo(nonce[16..]);
        return Base64Url.EncodeToString(nonce);
    }

    /// <summary>Whether <paramref name="nonce"/> is one of ours and not too old (no write); when it is, when it expires.</summary>
    public async ValueTask<DateTimeOffset?> CheckAsync(string? nonce, CancellationToken cancellationToken)
    {
        if (nonce is not { Length: 43 } || !Base64Url.IsValid(nonce))
        {
            return null;
        }

        var key = _key ?? await LoadKeyAsync(cancellationToken).ConfigureAwait(false);
        var bytes = Base64Url.DecodeFromChars(nonce);
        if (bytes.Length != Length || !CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, bytes.AsSpan(0, 16)).AsSpan(0, 16), bytes.AsSpan(16)))
        {
            return null;
        }

        var issued = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(bytes));
        var expires = issued + options.CurrentValue.NonceLifetime;
        var now = time.GetUtcNow();
        return issued <= now + TimeSpan.FromMinutes(1) && expires > now ? expires : null;
    }

    /// <summary>Uses a checked nonce: false when it was used before, on any instance.</summary>
    public static Task<bool> UseAsync(IAcmeNonceStore store, string nonce, DateTimeOffset expires, CancellationToken cancellationToken)
        => store.TryUseAsync(nonce, expires, cancellationToken);

    private async Task<byte[]> LoadKeyAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_key is not null)
            {
                return _key;
            }

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
}
