using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.Internal;

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

    /// <summary>A private key from PEM: PKCS#8 (or the older EC/RSA forms), or encrypted PKCS#8 with <paramref name="passphrase"/>.</summary>
    public static AsymmetricAlgorithm ImportPrivateKeyPem(string pem, string? passphrase)
    {
        if (!pem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
        {
            return ImportPrivateKeyPem(pem);
        }

        if (string.IsNullOrEmpty(passphrase))
        {
            throw new CryptographicException("The key is encrypted: give its passphrase.");
        }

        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportFromEncryptedPem(pem, passphrase);
            return ecdsa;
        }
        catch (CryptographicException)
        {
            var rsa = RSA.Create();
            rsa.ImportFromEncryptedPem(pem, passphrase);
            return rsa;
        }
    }

    /// <summary>Encrypted PKCS#8 PEM of <paramref name="key"/> under <paramref name="passphrase"/> (AES-256-CBC, PBKDF2-SHA256, 600,000 rounds).</summary>
    public static string ExportEncryptedPrivateKeyPem(AsymmetricAlgorithm key, string passphrase)
        => key.ExportEncryptedPkcs8PrivateKeyPem(passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000));

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
        string rootName, string issuerName, PrivateCaKeyAlgorithm algorithm, DateTimeOffset now, string? baseDomain = null)
    {
        var rootKey = CreateKey(algorithm);
        var rootRequest = CreateRequest(new X500DistinguishedName($"CN={rootName}, O=Sndctl Provisioning"), rootKey);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        using var rootWithKey = rootRequest.CreateSelfSigned(now.AddHours(-1), now.AddYears(20));
        var root = X509CertificateLoader.LoadCertificate(rootWithKey.RawData);

        var (issuer, issuerKey) = CreateIntermediate(root, rootKey, issuerName, algorithm, now, baseDomain is null ? [] : [DeviceNameConstraints(baseDomain)]);
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
    /// A critical nameConstraints extension (RFC 5280 §4.2.1.10) for the CSR intermediates: permits only
    /// IP addresses in the private IPv4 ranges, and excludes every DNS name, e-mail address, URI and IPv6
    /// address (zero-length bases / ::/0), as the CA/Browser Forum asks of technically constrained CAs.
    /// </summary>
    /// <remarks>
    /// The zero-length excluded dNSName needs leaves without a CN: OpenSSL checks a leaf's CN as a DNS name
    /// when it has no DNS SAN, so a leaf with CN = its IP address would fail <c>openssl verify</c>
    /// ("excluded subtree violation"). The leaves carry their address in the subjectAltName only
    /// (<see cref="PrivateCsrService.BuildLeaf"/>). CAs made before this constraint keep theirs (docs/security.md).
    /// </remarks>
    public static X509Extension PrivateIpNameConstraints() => NameConstraints(
        permitted => WriteIpRanges(permitted, AddressRanges.PrivateIPv4),
        excluded =>
        {
            WriteSubtree(excluded, 2, []); // dNSName ""
            WriteSubtree(excluded, 1, []); // rfc822Name ""
            WriteSubtree(excluded, 6, []); // uniformResourceIdentifier ""
            WriteSubtree(excluded, 7, new byte[32], octets: true); // iPAddress ::/0
        });

    /// <summary>
    /// The device-issuing CA's critical nameConstraints: permits DNS names under <paramref name="baseDomain"/>
    /// only, and excludes every IP address, e-mail address and URI, so that even a stolen issuing key
    /// signs nothing a relying party accepts outside the fleet's domain.
    /// </summary>
    public static X509Extension DeviceNameConstraints(string baseDomain) => NameConstraints(
        permitted => WriteSubtree(permitted, 2, System.Text.Encoding.ASCII.GetBytes(baseDomain)),
        excluded =>
        {
            WriteSubtree(excluded, 7, new byte[8], octets: true); // 0.0.0.0/0
            WriteSubtree(excluded, 7, new byte[32], octets: true); // ::/0
            WriteSubtree(excluded, 1, []);
            WriteSubtree(excluded, 6, []);
        });

    /// <summary>The permitted dNSName bases of <paramref name="ca"/>'s nameConstraints, or null when it has none.</summary>
    public static IReadOnlyList<string>? PermittedDnsNames(X509Certificate2 ca)
    {
        var extension = ca.Extensions["2.5.29.30"];
        if (extension is null)
        {
            return null;
        }

        var names = new List<string>();
        var sequence = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
        if (sequence.HasData && sequence.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            var permitted = sequence.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0));
            while (permitted.HasData)
            {
                var subtree = permitted.ReadSequence();
                var tag = subtree.PeekTag();
                if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 2)
                {
                    names.Add(subtree.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                }
            }
        }

        return names.Count == 0 ? null : names;
    }

    private static X509Extension NameConstraints(Action<AsnWriter> permitted, Action<AsnWriter> excluded)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                permitted(writer);
            }

            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1)))
            {
                excluded(writer);
            }
        }

        return new X509Extension("2.5.29.30", writer.Encode(), critical: true);
    }

    private static void WriteIpRanges(AsnWriter writer, IEnumerable<(System.Net.IPAddress Network, int Prefix)> ranges)
    {
        foreach (var (network, prefix) in ranges)
        {
            var mask = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
            WriteSubtree(writer, 7, [.. network.GetAddressBytes(), (byte)(mask >> 24), (byte)(mask >> 16), (byte)(mask >> 8), (byte)mask], octets: true);
        }
    }

    /// <summary>GeneralSubtree { base [tag] value } with an implicit context tag (IA5String or OCTET STRING content).</summary>
    private static void WriteSubtree(AsnWriter writer, int tag, byte[] value, bool octets = false)
    {
        using (writer.PushSequence())
        {
            if (octets)
            {
                writer.WriteOctetString(value, new Asn1Tag(TagClass.ContextSpecific, tag));
            }
            else
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, System.Text.Encoding.ASCII.GetString(value), new Asn1Tag(TagClass.ContextSpecific, tag));
            }
        }
    }

    /// <summary>
    /// The DER of the certificate <see cref="CertificateRequest.Create(X500DistinguishedName, X509SignatureGenerator, DateTimeOffset, DateTimeOffset, ReadOnlySpan{byte})"/>
    /// makes (RFC 5280 §4.1: v3, the request's subject, key and extensions in order, UTCTime before 2050
    /// and GeneralizedTime from then on, whole seconds), without loading it back: that method returns an
    /// <see cref="X509Certificate2"/>, and loading one costs OpenSSL 3.0 more than making the signature
    /// (it decodes the public key through its provider decoders). The tests hold the two byte for byte.
    /// </summary>
    public static byte[] CreateCertificateDer(CertificateRequest request, X500DistinguishedName issuerName, X509SignatureGenerator generator, DateTimeOffset notBefore, DateTimeOffset notAfter, ReadOnlySpan<byte> serialNumber)
    {
        if (notAfter < notBefore)
        {
            throw new ArgumentException("notAfter is before notBefore.", nameof(notAfter));
        }

        var signatureAlgorithm = generator.GetSignatureAlgorithmIdentifier(request.HashAlgorithm);
        var tbs = new AsnWriter(AsnEncodingRules.DER);
        using (tbs.PushSequence())
        {
            using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                tbs.WriteInteger(2);
            }

            var serial = serialNumber.TrimStart((byte)0);
            tbs.WriteIntegerUnsigned(serial.IsEmpty ? [0] : serial);
            tbs.WriteEncodedValue(signatureAlgorithm);
            tbs.WriteEncodedValue(issuerName.RawData);
            using (tbs.PushSequence())
            {
                WriteTime(tbs, notBefore);
                WriteTime(tbs, notAfter);
            }

            tbs.WriteEncodedValue(request.SubjectName.RawData);
            tbs.WriteEncodedValue(request.PublicKey.ExportSubjectPublicKeyInfo());
            if (request.CertificateExtensions.Count > 0)
            {
                using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3)))
                using (tbs.PushSequence())
                {
                    foreach (var extension in request.CertificateExtensions)
                    {
                        using (tbs.PushSequence())
                        {
                            tbs.WriteObjectIdentifier(extension.Oid!.Value!);
                            if (extension.Critical)
                            {
                                tbs.WriteBoolean(true);
                            }

                            tbs.WriteOctetString(extension.RawData);
                        }
                    }
                }
            }
        }

        var tbsDer = tbs.Encode();
        var certificate = new AsnWriter(AsnEncodingRules.DER);
        using (certificate.PushSequence())
        {
            certificate.WriteEncodedValue(tbsDer);
            certificate.WriteEncodedValue(signatureAlgorithm);
            certificate.WriteBitString(generator.SignData(tbsDer, request.HashAlgorithm));
        }

        return certificate.Encode();

        static void WriteTime(AsnWriter writer, DateTimeOffset time)
        {
            var utc = time.ToUniversalTime();
            if (utc.Year is >= 1950 and < 2050)
            {
                writer.WriteUtcTime(utc);
            }
            else
            {
                writer.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
            }
        }
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
