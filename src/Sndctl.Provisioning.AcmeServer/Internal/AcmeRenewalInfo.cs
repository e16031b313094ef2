using System.Buffers.Text;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// renewalInfo (RFC 9773) for the certificates this server stores: the suggested window starts at the certificate's
/// renew-after time (the CA's own ARI window when the CA gave one, else the last third of the lifetime) and ends
/// half-way to its expiry; a revoked certificate's window is now.
/// </summary>
internal sealed class AcmeRenewalInfo(ICertificateStore certificates, TimeProvider time)
{
    private static readonly TimeSpan s_retryAfter = TimeSpan.FromHours(6);

    public async Task<AcmeResult> GetAsync(string? certId, CancellationToken cancellationToken)
    {
        var parts = certId?.Split('.') ?? [];
        if (parts.Length != 2 || parts[0].Length is 0 or > 128 || parts[1].Length is 0 or > 64 || !Base64Url.IsValid(parts[0]) || !Base64Url.IsValid(parts[1]))
        {
            return AcmeResult.Of(AcmeProblem.Malformed("A certID is base64url(authority key identifier) '.' base64url(serial number)."));
        }

        var keyIdentifier = Base64Url.DecodeFromChars(parts[0]);
        var serial = Convert.ToHexString(Base64Url.DecodeFromChars(parts[1]));
        var certificate = (await certificates.FindBySerialNumberAsync(serial, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(c => AuthorityKeyIdentifierOf(c)?.AsSpan().SequenceEqual(keyIdentifier) == true);
        if (certificate is null)
        {
            return AcmeResult.Of(AcmeProblem.NotFound("No certificate of this server has that certID."));
        }

        var (start, end) = certificate.RevokedAt is not null
            ? (time.GetUtcNow() - TimeSpan.FromHours(1), time.GetUtcNow())
            : (certificate.RenewAfter, certificate.RenewAfter + TimeSpan.FromTicks(Math.Max(TimeSpan.FromHours(1).Ticks, (certificate.NotAfter - certificate.RenewAfter).Ticks / 2)));
        return AcmeResult.Json(200, AcmeJson.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("suggestedWindow");
            writer.WriteString("start", AcmeJson.Time(start));
            writer.WriteString("end", AcmeJson.Time(end));
            writer.WriteEndObject();
            writer.WriteEndObject();
        })) with { RetryAfter = s_retryAfter };
    }

    private static byte[]? AuthorityKeyIdentifierOf(DeviceCertificate certificate)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(AcmeRevocation.LeafOf(certificate));
        return leaf.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier?.ToArray();
    }
}
