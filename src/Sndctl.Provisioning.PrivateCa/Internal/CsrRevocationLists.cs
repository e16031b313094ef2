using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The CRL of each CSR intermediate, made from the store's revoked requests and signed by that
/// intermediate, and the CRL of the device-issuing CA (<c>devices.crl</c>), made from the revoked
/// device certificates it issued (deleted devices' included). Kept for a minute at most (other
/// instances' revocations show within that), remade at once after a revocation here; valid for <see cref="PrivateCaOptions.CrlLifetime"/>.
/// </summary>
internal sealed class CsrRevocationLists(IServiceScopeFactory scopes, CertificateAuthority authority, IOptionsMonitor<PrivateCaOptions> options, TimeProvider time)
{
    public const string DevicesFile = "devices";
    private const int DevicesSlot = 2;
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    // One slot per CSR type, then the device-issuing CA's; each a reference swapped whole, never read half-written.
    private readonly CachedCrl?[] _cache = new CachedCrl?[3];

    public static Uri Url(Uri baseUrl, CsrCertificateType type) => FileUrl(baseUrl, CsrTypes.Name(type));

    public static Uri DevicesUrl(Uri baseUrl) => FileUrl(baseUrl, DevicesFile);

    public void Invalidate(CsrCertificateType type) => _cache[(int)type] = null;

    public void InvalidateDevices() => _cache[DevicesSlot] = null;

    /// <summary>The CRL of the intermediate that signs private-IP CSRs of <paramref name="type"/>.</summary>
    public Task<byte[]> GetAsync(CsrCertificateType type, CancellationToken cancellationToken)
        => GetCachedAsync(
            (int)type,
            async ct => await authority.GetCsrIssuerAsync(type, ct).ConfigureAwait(false),
            (services, _, ct) => services.GetRequiredService<ICsrRequestStore>().ListRevokedAsync(type, ct),
            cancellationToken);

    /// <summary>The device-issuing CA's CRL: every revoked, unexpired device certificate it issued.</summary>
    public Task<byte[]> GetDevicesAsync(CancellationToken cancellationToken)
        => GetCachedAsync(
            DevicesSlot,
            async ct => await authority.GetAsync(ct).ConfigureAwait(false),
            (services, now, ct) => services.GetRequiredService<ICertificateStore>().ListRevokedAsync(PrivateCaCertificateIssuer.IssuerName, now, ct),
            cancellationToken);

    private async Task<byte[]> GetCachedAsync(
        int slot,
        Func<CancellationToken, Task<LoadedCa>> signer,
        Func<IServiceProvider, DateTimeOffset, CancellationToken, Task<IReadOnlyList<(string SerialNumber, DateTimeOffset RevokedAt)>>> revoked,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache[slot] is { } cached && now - cached.MadeAt < MaxAge)
        {
            return cached.Der;
        }

        var ca = await signer(cancellationToken).ConfigureAwait(false);
        var scope = scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var builder = new CertificateRevocationListBuilder();
        foreach (var (serial, revokedAt) in await revoked(scope.ServiceProvider, now, cancellationToken).ConfigureAwait(false))
        {
            builder.AddEntry(Convert.FromHexString(serial), revokedAt);
        }

        // The CRL number only has to increase: milliseconds since the epoch do, across instances too.
        var der = ca.SignCrl(builder, now.ToUnixTimeMilliseconds(), now, now + options.CurrentValue.CrlLifetime);
        _cache[slot] = new CachedCrl(der, now);
        return der;
    }

    private static Uri FileUrl(Uri baseUrl, string name)
        => new(new Uri(baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl.AbsoluteUri : baseUrl.AbsoluteUri + "/"), $"api/v1/ca/crl/{name}.crl");

    private sealed record CachedCrl(byte[] Der, DateTimeOffset MadeAt);
}
