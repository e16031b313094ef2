using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The CRL of each CSR intermediate, made from the store's revoked requests and signed by that
/// intermediate, and the CRL of the device-issuing CA (<c>devices.crl</c>), made from the revoked
/// device certificates it issued (deleted devices' included). Kept for a minute at most (other instances' revocations show within that), remade
/// at once after a revocation here; valid for <see cref="PrivateCaOptions.CrlLifetime"/>.
/// </summary>
internal sealed class CsrRevocationLists(IServiceScopeFactory scopes, CertificateAuthority authority, IOptionsMonitor<PrivateCaOptions> options, TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);
    public const string DevicesFile = "devices";
    private readonly CachedCrl?[] _cache = new CachedCrl?[2];
    private CachedCrl? _devices;

    public static Uri Url(Uri baseUrl, CsrCertificateType type)
        => new(new Uri(baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl.AbsoluteUri : baseUrl.AbsoluteUri + "/"), $"api/v1/ca/crl/{CsrTypes.Name(type)}.crl");

    public static Uri DevicesUrl(Uri baseUrl)
        => new(new Uri(baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl.AbsoluteUri : baseUrl.AbsoluteUri + "/"), $"api/v1/ca/crl/{DevicesFile}.crl");

    public void Invalidate(CsrCertificateType type) => _cache[(int)type] = null;

    public void InvalidateDevices() => _devices = null;

    /// <summary>The device-issuing CA's CRL: every revoked, unexpired device certificate it issued.</summary>
    public async Task<byte[]> GetDevicesAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_devices is { } cached && now - cached.MadeAt < MaxAge)
        {
            return cached.Der;
        }

        var ca = await authority.GetAsync(cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var revoked = await scope.ServiceProvider.GetRequiredService<ICertificateStore>().ListRevokedAsync(PrivateCaCertificateIssuer.IssuerName, now, cancellationToken);
        var der = ca.SignCrl(Entries(revoked), now.ToUnixTimeMilliseconds(), now, now + options.CurrentValue.CrlLifetime);
        _devices = new CachedCrl(der, now);
        return der;
    }

    private static CertificateRevocationListBuilder Entries(IEnumerable<(string SerialNumber, DateTimeOffset RevokedAt)> revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var (serial, revokedAt) in revoked)
        {
            builder.AddEntry(Convert.FromHexString(serial), revokedAt);
        }

        return builder;
    }

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
        var builder = Entries(revoked);

        // The CRL number only has to increase: milliseconds since the epoch do, across instances too.
        var der = issuer.SignCrl(builder, now.ToUnixTimeMilliseconds(), now, now + options.CurrentValue.CrlLifetime);
        _cache[(int)type] = new CachedCrl(der, now); // A reference: swapped whole, never read half-written.
        return der;
    }

    private sealed record CachedCrl(byte[] Der, DateTimeOffset MadeAt);
}
