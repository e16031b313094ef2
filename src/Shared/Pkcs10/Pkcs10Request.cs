using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Sndctl.Provisioning.Internal;

/// <summary>
/// A PKCS#10 request read strictly before anything trusts it (shared source of Core and PrivateCa):
/// one PEM block and nothing else around it, DER with no trailing bytes, version 1, single-valued
/// subject RDNs with decodable strings, a key this project issues for (RSA 2048–4096, ECDSA on the
/// named curves P-256 or P-384, checked before the signature so a huge modulus costs nothing) and a
/// SHA-2 signature that verifies. <see cref="Der"/> is exactly the checked bytes: whatever is signed
/// or forwarded to a CA is what was checked.
/// </summary>
internal sealed class Pkcs10Request
{
    public const int MaxPemLength = 16_384;
    public const int MinRsaBits = 2048;
    public const int MaxRsaBits = 4096;
    private const int MaxSubjectAttributes = 32;
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";
    private const string P256Oid = "1.2.840.10045.3.1.7";
    private const string P384Oid = "1.3.132.0.34";
    public const string CommonNameOid = "2.5.4.3";

    private static readonly Dictionary<string, string> s_keyNames = new(StringComparer.Ordinal)
    {
        ["1.3.101.112"] = "Ed25519",
        ["1.3.101.113"] = "Ed448",
        ["1.3.101.110"] = "X25519",
        ["1.2.840.10040.4.1"] = "DSA",
        ["1.2.840.113549.1.1.10"] = "RSASSA-PSS",
    };

    private static readonly HashSet<string> s_signatureAlgorithms = new(StringComparer.Ordinal)
    {
        "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13", // sha{256,384,512}WithRSAEncryption
        "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4", // ecdsa-with-SHA{256,384,512}
    };

    private Pkcs10Request(byte[] der, byte[] subjectPublicKeyInfo, IReadOnlyList<(string Oid, string Value)> subject, CertificateRequest request)
    {
        Der = der;
        SubjectPublicKeyInfo = subjectPublicKeyInfo;
        Subject = subject;
        Request = request;
    }

    /// <summary>The DER of the one checked request.</summary>
    public byte[] Der { get; }

    /// <summary>The request's SubjectPublicKeyInfo (DER).</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    /// <summary>The subject's attributes in order: type OID and string value.</summary>
    public IReadOnlyList<(string Oid, string Value)> Subject { get; }

    /// <summary>The request as .NET loaded it, its signature verified; extensions loaded only to be checked.</summary>
    public CertificateRequest Request { get; }

    /// <summary>The values of every CN attribute in the subject.</summary>
    public IEnumerable<string> CommonNames => Subject.Where(a => a.Oid == CommonNameOid).Select(a => a.Value);

    /// <summary>Reads and checks <paramref name="pem"/>; on failure says why and whether the request is malformed or merely unacceptable.</summary>
    public static Pkcs10Request? Read(string pem, out Pkcs10Problem problem, out string? error)
    {
        problem = Pkcs10Problem.Malformed;
        return TryDecodePem(pem, out var der, out error) ? Read(der, out problem, out error) : null;
    }

    /// <summary>
    /// The DER of <paramref name="pem"/>: exactly one PEM block labelled <c>CERTIFICATE REQUEST</c> with nothing
    /// around it, within <see cref="MaxPemLength"/>. Nothing of the request is parsed yet.
    /// </summary>
    public static bool TryDecodePem(string pem, out byte[] der, [NotNullWhen(false)] out string? error)
    {
        der = [];
        if (pem.Length > MaxPemLength)
        {
            error = $"The CSR is longer than {MaxPemLength} characters.";
            return false;
        }

        if (!PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] is not ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST"))
        {
            error = "The CSR must be one PEM block labelled CERTIFICATE REQUEST (-----BEGIN CERTIFICATE REQUEST-----).";
            return false;
        }

        if (!IsBlank(pem.AsSpan(0, fields.Location.Start.Value)) || !IsBlank(pem.AsSpan(fields.Location.End.Value)))
        {
            error = "The CSR must be one PEM block with nothing before or after it (no other blocks, no trailing data).";
            return false;
        }

        try
        {
            der = Convert.FromBase64String(pem[fields.Base64Data]);
        }
        catch (FormatException)
        {
            error = "The CSR's PEM body is not valid base64.";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Reads and checks a DER request; see <see cref="Read(string, out Pkcs10Problem, out string?)"/>.</summary>
    public static Pkcs10Request? Read(byte[] der, out Pkcs10Problem problem, out string? error)
    {
        problem = Pkcs10Problem.Malformed;
        byte[] spki;
        List<(string Oid, string Value)> subject;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            if (reader.HasData)
            {
                error = "The CSR has data after the request.";
                return null;
            }

            var info = outer.ReadSequence();
            var signatureAlgorithm = outer.ReadSequence().ReadObjectIdentifier();
            outer.ReadBitString(out _);
            if (outer.HasData)
            {
                error = "The CSR has data after its signature.";
                return null;
            }

            if (!info.TryReadInt32(out var version) || version != 0)
            {
                error = "The CSR's version must be 1 (encoded 0).";
                return null;
            }

            subject = ReadSubject(info.ReadSequence(), out error, out var subjectProblem);
            if (error is not null)
            {
                problem = subjectProblem;
                return null;
            }

            spki = info.ReadEncodedValue().ToArray();
            if (info.HasData)
            {
                info.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 0)); // attributes: checked by .NET below
            }

            if (info.HasData)
            {
                error = "The CSR's request info has data after its attributes.";
                return null;
            }

            if (KeyProblem(spki) is { } keyProblem)
            {
                problem = Pkcs10Problem.Unacceptable;
                error = keyProblem;
                return null;
            }

            if (!s_signatureAlgorithms.Contains(signatureAlgorithm))
            {
                problem = Pkcs10Problem.Unacceptable;
                error = $"The CSR is signed with algorithm {signatureAlgorithm}: sign it with SHA-256, SHA-384 or SHA-512 (RSA PKCS#1 v1.5 or ECDSA).";
                return null;
            }
        }
        catch (AsnContentException)
        {
            error = "The CSR is not a DER-encoded PKCS#10 request.";
            return null;
        }

        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, out var consumed, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
            if (consumed != der.Length)
            {
                error = "The CSR has data after the request.";
                return null;
            }
        }
        catch (CryptographicException)
        {
            // Tell a bad signature from content .NET cannot read (its extension requests, say).
            try
            {
                CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, out _, CertificateRequestLoadOptions.SkipSignatureValidation | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
                problem = Pkcs10Problem.BadSignature;
                error = "The CSR's signature does not verify with the public key it carries: make it again with its own private key.";
            }
            catch (CryptographicException)
            {
                error = "The CSR is not a readable PKCS#10 request.";
            }

            return null;
        }

        problem = Pkcs10Problem.None;
        error = null;
        return new Pkcs10Request(der, spki, subject, request);
    }

    private static List<(string Oid, string Value)> ReadSubject(AsnReader name, out string? error, out Pkcs10Problem problem)
    {
        var attributes = new List<(string, string)>();
        problem = Pkcs10Problem.Malformed;
        error = null;
        while (name.HasData)
        {
            var rdn = name.ReadSetOf();
            var attribute = rdn.ReadSequence();
            var oid = attribute.ReadObjectIdentifier();
            var value = ReadString(attribute);
            if (value is null)
            {
                problem = Pkcs10Problem.Unacceptable;
                error = "A subject attribute of the CSR is not a string: subject values must be UTF8String, PrintableString or IA5String.";
                return attributes;
            }

            if (attribute.HasData)
            {
                error = "A subject attribute of the CSR has extra data.";
                return attributes;
            }

            if (rdn.HasData)
            {
                problem = Pkcs10Problem.Unacceptable;
                error = "The CSR's subject has a multi-valued RDN (such as CN=a+O=b): use one attribute per RDN.";
                return attributes;
            }

            attributes.Add((oid, value));
            if (attributes.Count > MaxSubjectAttributes)
            {
                problem = Pkcs10Problem.Unacceptable;
                error = $"The CSR's subject has more than {MaxSubjectAttributes} attributes.";
                return attributes;
            }
        }

        return attributes;
    }

    private static string? ReadString(AsnReader attribute)
    {
        var tag = attribute.PeekTag();
        UniversalTagNumber? type = tag.TagClass != TagClass.Universal || tag.IsConstructed ? null : (UniversalTagNumber)tag.TagValue switch
        {
            UniversalTagNumber.UTF8String => UniversalTagNumber.UTF8String,
            UniversalTagNumber.PrintableString => UniversalTagNumber.PrintableString,
            UniversalTagNumber.IA5String => UniversalTagNumber.IA5String,
            UniversalTagNumber.BMPString => UniversalTagNumber.BMPString,
            UniversalTagNumber.T61String => UniversalTagNumber.T61String,
            UniversalTagNumber.VisibleString => UniversalTagNumber.VisibleString,
            _ => null,
        };
        if (type is null)
        {
            attribute.ReadEncodedValue();
            return null;
        }

        try
        {
            return attribute.ReadCharacterString(type.Value);
        }
        catch (DecoderFallbackException ex)
        {
            throw new AsnContentException("A subject string is not validly encoded.", ex);
        }
    }

    /// <summary>Why the key is not accepted, from the SubjectPublicKeyInfo alone (no signature work), or null.</summary>
    private static string? KeyProblem(byte[] spki)
    {
        var reader = new AsnReader(spki, AsnEncodingRules.DER).ReadSequence();
        var algorithm = reader.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        var key = reader.ReadBitString(out _);
        const string Accepted = "use RSA with 2048 to 4096 bits, or ECDSA on P-256 or P-384.";
        switch (oid)
        {
            case RsaOid:
                var rsa = new AsnReader(key, AsnEncodingRules.DER).ReadSequence();
                var modulus = rsa.ReadIntegerBytes().Span;
                var bits = (long)new BigInteger(modulus, isUnsigned: true, isBigEndian: true).GetBitLength();
                return bits switch
                {
                    > MaxRsaBits => $"The key is RSA with a {bits}-bit modulus (more than {MaxRsaBits}): " + Accepted,
                    < MinRsaBits => $"The key is RSA-{bits}: " + Accepted,
                    _ => null,
                };
            case EcOid:
                if (!algorithm.HasData || algorithm.PeekTag() != Asn1Tag.ObjectIdentifier)
                {
                    return "The ECDSA key has explicit curve parameters: only named curves are accepted; " + Accepted;
                }

                var curve = algorithm.ReadObjectIdentifier();
                return curve is P256Oid or P384Oid ? null : $"The key is ECDSA on curve {new Oid(curve).FriendlyName ?? curve}: " + Accepted;
            default:
                return $"The key type {(s_keyNames.TryGetValue(oid, out var name) ? name : oid)} is not accepted: " + Accepted;
        }
    }

    private static bool IsBlank(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsWhiteSpace(c))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Why a request was not read.</summary>
internal enum Pkcs10Problem
{
    /// <summary>It was read.</summary>
    None,

    /// <summary>Not a well-formed PEM PKCS#10 request.</summary>
    Malformed,

    /// <summary>Well-formed, but its key, signature algorithm or subject shape is not accepted.</summary>
    Unacceptable,

    /// <summary>Well-formed, but its signature does not verify.</summary>
    BadSignature,
}
