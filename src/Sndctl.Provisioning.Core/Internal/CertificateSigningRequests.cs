using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Device CSRs: checking the ones devices send and making the ones the server needs.</summary>
internal static class CertificateSigningRequests
{
    public const int MaxPemLength = 16_384;
    private const string SubjectAltNameOid = "2.5.29.17";
    private const string P256Oid = "1.2.840.10045.3.1.7";
    private const string P384Oid = "1.3.132.0.34";

    /// <summary>Parses and checks a device CSR; returns the DER and the public key, or an error to show the device.</summary>
    public static bool TryValidate(string pem, string hostname, out byte[] der, out byte[] subjectPublicKeyInfo, out string? error)
    {
        der = [];
        subjectPublicKeyInfo = [];
        if (pem.Length > MaxPemLength)
        {
            error = $"The CSR is longer than {MaxPemLength} characters.";
            return false;
        }

        CertificateRequest request;
        try
        {
            // The signature is verified (no SkipSignatureValidation). Extensions are loaded only so that
            // they can be checked here; they are never copied into a certificate.
            request = CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (CryptographicException)
        {
            error = "The CSR is not a PEM-encoded PKCS#10 request with a valid signature.";
            return false;
        }

        if (!IsAcceptableKey(request.PublicKey, out error))
        {
            return false;
        }

        var commonName = request.SubjectName.GetSingleCommonName();
        if (commonName is not null && !string.Equals(commonName, hostname, StringComparison.OrdinalIgnoreCase))
        {
            error = $"The CSR's common name '{commonName}' is not the device hostname '{hostname}'.";
            return false;
        }

        foreach (var extension in request.CertificateExtensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid)
            {
                continue;
            }

            var san = new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
            if (san.EnumerateIPAddresses().Any() || san.EnumerateDnsNames().Any(n => !string.Equals(n, hostname, StringComparison.OrdinalIgnoreCase)))
            {
                error = $"The CSR may name only the device hostname '{hostname}'.";
                return false;
            }
        }

        der = PemEncoding.TryFind(pem, out var fields) ? Convert.FromBase64String(pem[fields.Base64Data]) : [];
        subjectPublicKeyInfo = request.PublicKey.ExportSubjectPublicKeyInfo();
        error = null;
        return true;
    }

    public static bool IsAcceptableKey(PublicKey key, out string? error)
    {
        using (var rsa = key.GetRSAPublicKey())
        {
            if (rsa is not null)
            {
                error = rsa.KeySize >= 2048 ? null : $"RSA keys must have at least 2048 bits; this one has {rsa.KeySize}.";
                return error is null;
            }
        }

        using (var ecdsa = key.GetECDsaPublicKey())
        {
            if (ecdsa is not null)
            {
                var curve = ecdsa.ExportParameters(false).Curve.Oid.Value;
                error = curve is P256Oid or P384Oid ? null : "ECDSA keys must be on P-256 or P-384.";
                return error is null;
            }
        }

        error = "The key must be RSA (2048 bits or more) or ECDSA (P-256 or P-384).";
        return false;
    }

    /// <summary>Makes a key of the configured type and a CSR for <paramref name="hostname"/>.</summary>
    public static (byte[] Der, string PrivateKeyPem) CreateWithNewKey(string hostname, DeviceKeyAlgorithm algorithm)
    {
        var subject = new X500DistinguishedName("CN=" + hostname);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        if (algorithm == DeviceKeyAlgorithm.EcdsaP256)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(san.Build());
            return (request.CreateSigningRequest(), key.ExportPkcs8PrivateKeyPem());
        }

        using var rsa = RSA.Create(algorithm == DeviceKeyAlgorithm.Rsa3072 ? 3072 : 2048);
        var rsaRequest = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rsaRequest.CertificateExtensions.Add(san.Build());
        return (rsaRequest.CreateSigningRequest(), rsa.ExportPkcs8PrivateKeyPem());
    }

    private static string? GetSingleCommonName(this X500DistinguishedName name)
    {
        string? commonName = null;
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == "2.5.4.3")
            {
                commonName = rdn.GetSingleElementValue();
            }
        }

        return commonName;
    }
}
