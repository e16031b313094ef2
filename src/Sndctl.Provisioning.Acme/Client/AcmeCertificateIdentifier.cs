using System.Buffers.Text;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Acme;

/// <summary>The ARI certificate identifier (RFC 9773 §4.1): base64url(AKI key id) "." base64url(serial).</summary>
public static class AcmeCertificateIdentifier
{
    /// <summary>The identifier, or <see langword="null"/> when the certificate has no Authority Key Identifier.</summary>
    public static string? TryGet(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var aki = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier;
        if (aki is not { Length: > 0 } keyId)
        {
            return null;
        }

        return Base64Url.EncodeToString(keyId.Span) + "." + Base64Url.EncodeToString(certificate.SerialNumberBytes.Span);
    }

    /// <summary>The identifier of the leaf of a PEM chain.</summary>
    public static string? TryGet(string certificatePem)
    {
        using var leaf = X509Certificate2.CreateFromPem(certificatePem);
        return TryGet(leaf);
    }
}
