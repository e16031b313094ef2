using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The CRL of each CSR intermediate, made from the store's revoked requests and signed by that
/// intermediate. Kept for a minute at most (other instances' revocations show within that), remade
/// at once after a revocation here; valid for <see cref="PrivateCaOptions.CrlLifetime"/>.
/// </summary>
internal sealed class CsrRevocationLists(IServiceScopeFactory scopes, CertificateAuthority authority, IOptionsMonitor<PrivateCaOptions> options, TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);
    private readonly CachedCrl?[] _cache = new CachedCrl?[2];

    public static Uri Url(Uri baseUrl, CsrCertificateType type)
        => new(new Uri(baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl.AbsoluteUri : baseUrl.AbsoluteUri + "/"), $"api/v1/ca/crl/{CsrTypes.Name(type)}.crl");

    public void Invalidate(CsrCertificateType type) => _cache[(int)type] = null;

    public async Task<byte[]> GetAsync(CsrCertificateType type, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache[(int)type] is { } cached && now - cached.MadeAt < MaxAge)
        {
            return cached.Der;
        }

        var issuer = await authority.GetCsrIssuerAsync(type, cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var revoked = await scope.ServiceProvider.GetRequiredService<ICsrRequestStore>().ListRevokedAsync(type, cancellationToken);
        var builder = new CertificateRevocationListBuilder();
        foreach (var (serial, revokedAt) in revoked)
        {
            builder.AddEntry(Convert.FromHexString(serial), revokedAt);
        }

        // The CRL number only has to increase: milliseconds since the epoch do, across instances too.
        var der = issuer.SignCrl(builder, now.ToUnixTimeMilliseconds(), now, now + options.CurrentValue.CrlLifetime);
        _cache[(int)type] = new CachedCrl(der, now); // A reference: swapped whole, never read half-written.
        return der;
    }

    private sealed record CachedCrl(byte[] Der, DateTimeOffset MadeAt);
}
