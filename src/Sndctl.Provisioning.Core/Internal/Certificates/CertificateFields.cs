using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// The few fields of an X.509 certificate the server keeps (serial, validity, public key, DNS names,
/// SHA-256 thumbprint), read from its DER with <see cref="AsnReader"/> under DER rules. Loading an
/// <see cref="System.Security.Cryptography.X509Certificates.X509Certificate2"/> for them costs far more on
/// OpenSSL 3.0, which decodes the public key through its provider decoders on every load: that was a
/// fifth of the host's CPU in the launch-day storm (docs/benchmarks.md), for fields read here in microseconds.
/// </summary>
internal sealed class CertificateFields
{
    private static readonly Asn1Tag s_versionTag = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag s_issuerUniqueIdTag = new(TagClass.ContextSpecific, 1);
    private static readonly Asn1Tag s_subjectUniqueIdTag = new(TagClass.ContextSpecific, 2);
    private static readonly Asn1Tag s_extensionsTag = new(TagClass.ContextSpecific, 3, isConstructed: true);
    private static readonly Asn1Tag s_dnsNameTag = new(TagClass.ContextSpecific, 2);
    private const string SubjectAltNameOid = "2.5.29.17";

    private CertificateFields(string serialNumber, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] subjectPublicKeyInfo, IReadOnlyList<string> dnsNames, string thumbprint)
    {
        SerialNumber = serialNumber;
        NotBefore = notBefore;
        NotAfter = notAfter;
        SubjectPublicKeyInfo = subjectPublicKeyInfo;
        DnsNames = dnsNames;
        Thumbprint = thumbprint;
    }

    /// <summary>The serial number as upper-case hex of its encoded bytes (as <c>X509Certificate.SerialNumber</c> has it).</summary>
    public string SerialNumber { get; }

    public DateTimeOffset NotBefore { get; }

    public DateTimeOffset NotAfter { get; }

    /// <summary>The SubjectPublicKeyInfo exactly as encoded in the certificate.</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    /// <summary>The dNSName entries of the subjectAltName extension, in order (none when it has none).</summary>
    public IReadOnlyList<string> DnsNames { get; }

    /// <summary>Upper-case hex of the SHA-256 of the certificate's DER.</summary>
    public string Thumbprint { get; }

    /// <summary>Whether the subjectAltName names <paramref name="hostname"/> exactly (no wildcards, no common name), ignoring case.</summary>
    public bool Names(string hostname) => DnsNames.Any(n => string.Equals(n, hostname, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads the first CERTIFICATE block of <paramref name="pem"/>.</summary>
    /// <exception cref="CryptographicException">There is none, or it is not a DER certificate.</exception>
    public static CertificateFields ReadFirst(string pem)
    {
        foreach (var der in CertificateBlocks(pem))
        {
            return Read(der);
        }

        throw NoCertificate();
    }

    /// <summary>What <see cref="ReadFirst"/> throws for a text without a certificate.</summary>
    public static CryptographicException NoCertificate() => new("The text holds no PEM block labelled CERTIFICATE.");

    /// <summary>Reads a DER certificate.</summary>
    /// <exception cref="CryptographicException">It is not one.</exception>
    public static CertificateFields Read(byte[] der)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var certificate = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var tbs = certificate.ReadSequence();
            certificate.ReadSequence(); // signatureAlgorithm
            certificate.ReadBitString(out _);
            certificate.ThrowIfNotEmpty();

            if (tbs.PeekTag().HasSameClassAndValue(s_versionTag))
            {
                tbs.ReadSequence(s_versionTag).ReadInteger();
            }

            var serial = Convert.ToHexString(tbs.ReadIntegerBytes().Span);
            tbs.ReadSequence(); // signature
            tbs.ReadSequence(); // issuer
            var validity = tbs.ReadSequence();
            var notBefore = ReadTime(validity);
            var notAfter = ReadTime(validity);
            validity.ThrowIfNotEmpty();
            tbs.ReadSequence(); // subject
            var spki = tbs.ReadEncodedValue().ToArray();
            if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(s_issuerUniqueIdTag))
            {
                tbs.ReadBitString(out _, s_issuerUniqueIdTag);
            }

            if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(s_subjectUniqueIdTag))
            {
                tbs.ReadBitString(out _, s_subjectUniqueIdTag);
            }

            var dnsNames = tbs.HasData ? ReadDnsNames(tbs.ReadSequence(s_extensionsTag)) : [];
            tbs.ThrowIfNotEmpty();
            return new CertificateFields(serial, notBefore, notAfter, spki, dnsNames, Convert.ToHexString(SHA256.HashData(der)));
        }
        catch (AsnContentException ex)
        {
            throw new CryptographicException("The certificate is not valid DER.", ex);
        }
    }

    /// <summary>The DER of each CERTIFICATE block of <paramref name="pem"/>, in order; blocks with other labels are skipped.</summary>
    /// <exception cref="CryptographicException">A CERTIFICATE block's body is not base64.</exception>
    public static IEnumerable<byte[]> CertificateBlocks(string pem)
    {
        var offset = 0;
        while (offset < pem.Length && PemEncoding.TryFind(pem.AsSpan(offset), out var fields))
        {
            var block = pem.AsSpan(offset);
            var label = block[fields.Label];
            var base64 = block[fields.Base64Data];
            offset += fields.Location.End.Value;
            if (!label.SequenceEqual("CERTIFICATE"))
            {
                continue;
            }

            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(base64, der, out var written) || written != der.Length)
            {
                throw new CryptographicException("A CERTIFICATE block's body is not valid base64.");
            }

            yield return der;
        }
    }

    private static DateTimeOffset ReadTime(AsnReader validity)
        => validity.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? validity.ReadUtcTime() : validity.ReadGeneralizedTime();

    private static List<string> ReadDnsNames(AsnReader explicitExtensions)
    {
        var names = new List<string>();
        var extensions = explicitExtensions.ReadSequence();
        explicitExtensions.ThrowIfNotEmpty();
        while (extensions.HasData)
        {
            var extension = extensions.ReadSequence();
            var oid = extension.ReadObjectIdentifier();
            if (extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean))
            {
                extension.ReadBoolean();
            }

            var value = extension.ReadOctetString();
            extension.ThrowIfNotEmpty();
            if (oid != SubjectAltNameOid)
            {
                continue;
            }

            var generalNames = new AsnReader(value, AsnEncodingRules.DER);
            var sequence = generalNames.ReadSequence();
            generalNames.ThrowIfNotEmpty();
            while (sequence.HasData)
            {
                if (sequence.PeekTag().HasSameClassAndValue(s_dnsNameTag))
                {
                    names.Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, s_dnsNameTag));
                }
                else
                {
                    sequence.ReadEncodedValue();
                }
            }
        }

        return names;
    }
}
