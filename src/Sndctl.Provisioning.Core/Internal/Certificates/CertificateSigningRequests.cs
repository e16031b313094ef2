using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Device CSRs: checking the ones devices send and making the ones the server needs.</summary>
internal static class CertificateSigningRequests
{
    public const int MaxPemLength = Pkcs10Request.MaxPemLength;
    private const string SubjectAltNameOid = "2.5.29.17";

    /// <summary>
    /// Reads and checks a device CSR (<see cref="Pkcs10Request"/>: one PEM block, strict DER, accepted
    /// key, verified signature), then that it names only the device's hostname, in a subjectAltName. Returns the DER that was
    /// checked (the bytes the CA will see) and the public key, or an error to show the device.
    /// </summary>
    public static bool TryValidate(string pem, string hostname, out byte[] der, out byte[] subjectPublicKeyInfo, out string? error)
        => TryValidate(Pkcs10Request.Read(pem, out _, out error), error, hostname, out der, out subjectPublicKeyInfo, out error);

    /// <summary>The same checks of a CSR given as DER (the ACME front door's finalize carries it so).</summary>
    public static bool TryValidate(byte[] csrDer, string hostname, out byte[] der, out byte[] subjectPublicKeyInfo, out string? error)
        => TryValidate(Pkcs10Request.Read(csrDer, out _, out error), error, hostname, out der, out subjectPublicKeyInfo, out error);

    private static bool TryValidate(Pkcs10Request? csr, string? readError, string hostname, out byte[] der, out byte[] subjectPublicKeyInfo, out string? error)
    {
        der = [];
        subjectPublicKeyInfo = [];
        error = readError;
        if (csr is null)
        {
            return false;
        }

        var commonNames = csr.CommonNames.ToList();
        if (commonNames.Count > 1)
        {
            error = "The CSR's subject has more than one CN: use one, the device hostname, or none.";
            return false;
        }

        if (commonNames is [var commonName] && !string.Equals(commonName, hostname, StringComparison.OrdinalIgnoreCase))
        {
            error = $"The CSR's common name '{commonName}' is not the device hostname '{hostname}'.";
            return false;
        }

        var namesHostname = false;
        try
        {
            foreach (var extension in csr.Request.CertificateExtensions)
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

                namesHostname |= san.EnumerateDnsNames().Any();
            }
        }
        catch (CryptographicException)
        {
            error = "The CSR's subjectAltName extension cannot be read.";
            return false;
        }

        // CAs issue for the names in the subjectAltName (a CN alone is refused by RFC 8555 CAs such as Pebble, after
        // an order was spent): refused here, with the fix, before anything is asked of the CA.
        if (!namesHostname)
        {
            error = $"The CSR must name the device hostname in a subjectAltName DNS entry (e.g. openssl req -addext \"subjectAltName=DNS:{hostname}\").";
            return false;
        }

        der = csr.Der;
        subjectPublicKeyInfo = csr.SubjectPublicKeyInfo;
        error = null;
        return true;
    }

    /// <summary>Makes a key of the configured type and a CSR for <paramref name="hostname"/>.</summary>
    public static (byte[] Der, string PrivateKeyPem, byte[] SubjectPublicKeyInfo) CreateWithNewKey(string hostname, DeviceKeyAlgorithm algorithm)
    {
        var subject = new X500DistinguishedName("CN=" + hostname);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        if (algorithm == DeviceKeyAlgorithm.EcdsaP256)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(san.Build());
            return (request.CreateSigningRequest(), key.ExportPkcs8PrivateKeyPem(), key.ExportSubjectPublicKeyInfo());
        }

        using var rsa = RSA.Create(algorithm == DeviceKeyAlgorithm.Rsa3072 ? 3072 : 2048);
        var rsaRequest = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rsaRequest.CertificateExtensions.Add(san.Build());
        return (rsaRequest.CreateSigningRequest(), rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportSubjectPublicKeyInfo());
    }
}
