using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>X.509 building blocks of the private CA.</summary>
internal static class CaCertificates
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    public static AsymmetricAlgorithm CreateKey(PrivateCaKeyAlgorithm algorithm) => algorithm switch
    {
        PrivateCaKeyAlgorithm.Rsa2048 => RSA.Create(2048),
        PrivateCaKeyAlgorithm.Rsa3072 => RSA.Create(3072),
        _ => ECDsa.Create(ECCurve.NamedCurves.nistP256),
    };

    public static CertificateRequest CreateRequest(X500DistinguishedName subject, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ecdsa => new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256),
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException("CA keys are ECDSA or RSA."),
    };

    public static X509SignatureGenerator SignatureGenerator(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ecdsa => X509SignatureGenerator.CreateForECDsa(ecdsa),
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException("CA keys are ECDSA or RSA."),
    };

    public static AsymmetricAlgorithm PrivateKeyOf(X509Certificate2 certificate)
        => (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()
            ?? throw new InvalidOperationException("The CA certificate has no ECDSA or RSA private key.");

    public static string ExportPrivateKeyPem(AsymmetricAlgorithm key) => key.ExportPkcs8PrivateKeyPem();

    public static AsymmetricAlgorithm ImportPrivateKeyPem(string pem)
    {
        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportFromPem(pem);
            return ecdsa;
        }
        catch (CryptographicException)
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        }
    }

    /// <summary>Makes a self-signed root and an issuing intermediate under it.</summary>
    public static (X509Certificate2 Root, AsymmetricAlgorithm RootKey, X509Certificate2 Issuer, AsymmetricAlgorithm IssuerKey) CreateHierarchy(
        string rootName, string issuerName, PrivateCaKeyAlgorithm algorithm, DateTimeOffset now)
    {
        var rootKey = CreateKey(algorithm);
        var rootRequest = CreateRequest(new X500DistinguishedName($"CN={rootName}, O=Sndctl Provisioning"), rootKey);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        using var rootWithKey = rootRequest.CreateSelfSigned(now.AddHours(-1), now.AddYears(20));
        var root = X509CertificateLoader.LoadCertificate(rootWithKey.RawData);

        var (issuer, issuerKey) = CreateIntermediate(root, rootKey, issuerName, algorithm, now, []);
        return (root, rootKey, issuer, issuerKey);
    }

    /// <summary>Makes an issuing CA signed by <paramref name="root"/>, restricted to serverAuth.</summary>
    public static (X509Certificate2 Certificate, AsymmetricAlgorithm Key) CreateIntermediate(
        X509Certificate2 root, AsymmetricAlgorithm rootKey, string name, PrivateCaKeyAlgorithm algorithm, DateTimeOffset now, IEnumerable<X509Extension> extraExtensions)
    {
        var key = CreateKey(algorithm);
        var request = CreateRequest(new X500DistinguishedName($"CN={name}, O=Sndctl Provisioning"), key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        foreach (var extension in extraExtensions)
        {
            request.CertificateExtensions.Add(extension);
        }

        var notAfter = now.AddYears(10);
        if (notAfter > root.NotAfter)
        {
            notAfter = root.NotAfter;
        }

        var certificate = request.Create(root.SubjectName, SignatureGenerator(rootKey), now.AddHours(-1), notAfter, NewSerialNumber());
        return (certificate, key);
    }

    /// <summary>
    /// A critical nameConstraints extension (RFC 5280 §4.2.1.10) permitting only IP addresses in the
    /// private IPv4 ranges: a certificate this CA signs for anything else fails path validation.
    /// </summary>
    public static X509Extension PrivateIpNameConstraints()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0))) // permittedSubtrees
            {
                foreach (var (network, prefix) in CsrPolicy.PrivateRanges)
                {
                    using (writer.PushSequence()) // GeneralSubtree { base iPAddress [7] address || mask }
                    {
                        var mask = CsrPolicy.Mask(prefix);
                        byte[] value = [.. network.GetAddressBytes(), (byte)(mask >> 24), (byte)(mask >> 16), (byte)(mask >> 8), (byte)mask];
                        writer.WriteOctetString(value, new Asn1Tag(TagClass.ContextSpecific, 7));
                    }
                }
            }
        }

        return new X509Extension("2.5.29.30", writer.Encode(), critical: true);
    }

    /// <summary>A positive random serial of 128 bits (CA/B Forum asks for at least 64 bits of entropy).</summary>
    public static byte[] NewSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        return serial;
    }
}
