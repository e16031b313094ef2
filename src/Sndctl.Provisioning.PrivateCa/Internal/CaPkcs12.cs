using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The private CA as one passphrase-encrypted PKCS#12 file (what <c>openssl pkcs12</c> and every key store read):
/// each certificate with its key under a friendly name — <c>root</c>, <c>issuer</c> (device issuing CA),
/// <c>webhook</c> and <c>private_server</c> (the CSR CAs) — keys shrouded and certificates encrypted with
/// AES-256-CBC under PBKDF2-SHA256, the whole sealed with an HMAC-SHA256 MAC.
/// </summary>
internal static class CaPkcs12
{
    public const string Root = "root";
    public const string Issuer = "issuer";
    private const int Iterations = 600_000;
    private static readonly Oid s_friendlyName = new("1.2.840.113549.1.9.20");
    private static readonly PbeParameters s_pbe = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Iterations);

    /// <summary>One certificate of the CA, its key (null when kept offline) and its name in the file.</summary>
    public sealed record Entry(string Name, X509Certificate2 Certificate, AsymmetricAlgorithm? Key);

    public static byte[] Export(IEnumerable<Entry> entries, string passphrase)
    {
        var certificates = new Pkcs12SafeContents();
        var keys = new Pkcs12SafeContents();
        foreach (var entry in entries)
        {
            var localKeyId = new Pkcs9LocalKeyId(entry.Certificate.GetCertHash(HashAlgorithmName.SHA256));
            var certificateBag = certificates.AddCertificate(entry.Certificate);
            certificateBag.Attributes.Add(FriendlyName(entry.Name));
            certificateBag.Attributes.Add(localKeyId);
            if (entry.Key is { } key)
            {
                var keyBag = keys.AddShroudedKey(key, passphrase, s_pbe);
                keyBag.Attributes.Add(FriendlyName(entry.Name));
                keyBag.Attributes.Add(localKeyId);
            }
        }

        var builder = new Pkcs12Builder();
        builder.AddSafeContentsEncrypted(certificates, passphrase, s_pbe);
        builder.AddSafeContentsUnencrypted(keys); // each key bag is encrypted itself
        builder.SealWithMac(passphrase, HashAlgorithmName.SHA256, Iterations);
        return builder.Encode();
    }

    /// <summary>
    /// The entries of a PKCS#12 file, by friendly name; a file without our names (made with openssl from a root and
    /// an intermediate with its key) gives the self-signed certificate as <c>root</c> and the other CA with a key as <c>issuer</c>.
    /// </summary>
    /// <exception cref="CryptographicException">Not PKCS#12, or not this passphrase.</exception>
    public static Dictionary<string, Entry> Import(byte[] pkcs12, string passphrase)
    {
        var info = Pkcs12Info.Decode(pkcs12, out var consumed, skipCopy: true);
        if (consumed != pkcs12.Length || info.IntegrityMode != Pkcs12IntegrityMode.Password || !info.VerifyMac(passphrase))
        {
            throw new CryptographicException("The file is not a password-protected PKCS#12, or the passphrase is not its passphrase.");
        }

        var certificates = new List<(X509Certificate2 Certificate, string? Name, byte[]? Id)>();
        var keys = new List<(AsymmetricAlgorithm Key, string? Name, byte[]? Id)>();
        foreach (var contents in info.AuthenticatedSafe)
        {
            if (contents.ConfidentialityMode == Pkcs12ConfidentialityMode.Password)
            {
                contents.Decrypt(passphrase);
            }

            foreach (var bag in contents.GetBags())
            {
                var (name, id) = Attributes(bag);
                switch (bag)
                {
                    case Pkcs12CertBag { IsX509Certificate: true } certificateBag:
                        certificates.Add((certificateBag.GetCertificate(), name, id));
                        break;
                    case Pkcs12ShroudedKeyBag shrouded:
                        keys.Add((ImportEncryptedKey(shrouded.EncryptedPkcs8PrivateKey, passphrase), name, id));
                        break;
                    case Pkcs12KeyBag plain:
                        keys.Add((ImportKey(plain.Pkcs8PrivateKey), name, id));
                        break;
                }
            }
        }

        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var (certificate, name, id) in certificates)
        {
            var key = keys.FirstOrDefault(k => (id is not null && k.Id is not null && k.Id.AsSpan().SequenceEqual(id)) || (k.Id is null && name is not null && k.Name == name)).Key
                ?? keys.FirstOrDefault(k => Matches(certificate, k.Key)).Key;
            var role = name ?? (certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData) ? Root : Issuer);
            if (!entries.TryAdd(role, new Entry(role, certificate, key is not null && Matches(certificate, key) ? key : null)))
            {
                throw new CryptographicException($"The file holds more than one '{role}' certificate; keep one root and one issuing CA in it.");
            }
        }

        return entries;
    }

    private static bool Matches(X509Certificate2 certificate, AsymmetricAlgorithm key)
        => certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());

    private static AsymmetricAlgorithm ImportEncryptedKey(ReadOnlyMemory<byte> encrypted, string passphrase)
    {
        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportEncryptedPkcs8PrivateKey(passphrase, encrypted.Span, out _);
            return ecdsa;
        }
        catch (CryptographicException)
        {
            var rsa = RSA.Create();
            rsa.ImportEncryptedPkcs8PrivateKey(passphrase, encrypted.Span, out _);
            return rsa;
        }
    }

    private static AsymmetricAlgorithm ImportKey(ReadOnlyMemory<byte> pkcs8)
    {
        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(pkcs8.Span, out _);
            return ecdsa;
        }
        catch (CryptographicException)
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(pkcs8.Span, out _);
            return rsa;
        }
    }

    private static (string? Name, byte[]? Id) Attributes(Pkcs12SafeBag bag)
    {
        string? name = null;
        byte[]? id = null;
        foreach (var attribute in bag.Attributes)
        {
            foreach (var value in attribute.Values)
            {
                var reader = new AsnReader(value.RawData, AsnEncodingRules.BER);
                switch (attribute.Oid?.Value)
                {
                    case "1.2.840.113549.1.9.21":
                        id = reader.ReadOctetString();
                        break;
                    case "1.2.840.113549.1.9.20":
                        name = reader.ReadCharacterString(UniversalTagNumber.BMPString);
                        break;
                }
            }
        }

        return (name, id);
    }

    private static Pkcs9AttributeObject FriendlyName(string name)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.BMPString, name);
        return new Pkcs9AttributeObject(s_friendlyName, writer.Encode());
    }
}
