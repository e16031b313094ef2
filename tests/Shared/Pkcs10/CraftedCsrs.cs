using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Sndctl.Provisioning.Tests.Shared;

/// <summary>
/// Hostile PKCS#10 requests built byte by byte (what an attacker sends, not what .NET would make),
/// signed for real where the attack needs a valid signature, and a seeded mutator for fuzzing.
/// </summary>
public static class CraftedCsrs
{
    private const string P256 = "1.2.840.10045.3.1.7";
    private const string EcdsaSha256 = "1.2.840.10045.4.3.2";
    private const string Sha256Rsa = "1.2.840.113549.1.1.11";

    /// <summary>Each attack, by name, as PEM; <paramref name="commonName"/> is the CN the honest parts use.</summary>
    public static IReadOnlyDictionary<string, string> All(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var valid = Signed(key, Name([("2.5.4.3", commonName)]), spki);
        var truncated = valid[..(valid.Length / 2)];
        var utf8Bad = NameRaw(w =>
        {
            using (w.PushSetOf())
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier("2.5.4.3");
                w.WriteEncodedValue([0x0C, 0x03, 0xC3, 0x28, 0xFF]); // UTF8String holding bytes that are not UTF-8
            }
        });
        var deep = NameRaw(w =>
        {
            using (w.PushSetOf())
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier("2.5.4.10");
                var inner = new AsnWriter(AsnEncodingRules.DER);
                inner.WriteNull();
                var bytes = inner.Encode();
                for (var i = 0; i < 2_000; i++)
                {
                    var wrap = new AsnWriter(AsnEncodingRules.DER);
                    using (wrap.PushSequence())
                    {
                        wrap.WriteEncodedValue(bytes);
                    }

                    bytes = wrap.Encode();
                }

                w.WriteEncodedValue(bytes);
            }
        });
        var multiValued = NameRaw(w =>
        {
            using (w.PushSetOf())
            {
                foreach (var (oid, value) in new[] { ("2.5.4.3", commonName), ("2.5.4.10", "x") })
                {
                    using (w.PushSequence())
                    {
                        w.WriteObjectIdentifier(oid);
                        w.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                    }
                }
            }
        });

        var cases = new Dictionary<string, byte[]>
        {
            ["ed25519"] = Raw(Name([("2.5.4.3", commonName)]), Spki("1.3.101.112", null, RandomNumberGenerator.GetBytes(32)), "1.3.101.112", RandomNumberGenerator.GetBytes(64)),
            ["ed448"] = Raw(Name([("2.5.4.3", commonName)]), Spki("1.3.101.113", null, RandomNumberGenerator.GetBytes(57)), "1.3.101.113", RandomNumberGenerator.GetBytes(114)),
            ["explicit-ec-parameters"] = Raw(Name([("2.5.4.3", commonName)]), ExplicitParametersSpki(key), EcdsaSha256, RandomNumberGenerator.GetBytes(72)),
            ["multi-valued-rdn"] = Signed(key, multiValued, spki),
            ["duplicate-cn"] = Signed(key, Name([("2.5.4.3", commonName), ("2.5.4.3", commonName)]), spki),
            ["rsa-8192"] = Raw(Name([("2.5.4.3", commonName)]), RsaSpki(8192), Sha256Rsa, RandomNumberGenerator.GetBytes(1024)),
            ["rsa-16384"] = Raw(Name([("2.5.4.3", commonName)]), RsaSpki(16384), Sha256Rsa, RandomNumberGenerator.GetBytes(2048)),
            ["deep-nesting"] = Signed(key, deep, spki),
            ["truncated"] = truncated,
            ["non-utf8-cn"] = Signed(key, utf8Bad, spki),
            ["sha1-signature"] = Raw(Name([("2.5.4.3", commonName)]), spki, "1.2.840.10045.4.1", RandomNumberGenerator.GetBytes(72)),
            ["trailing-der"] = [.. valid, 0x05, 0x00],
            ["version-3"] = Raw(Name([("2.5.4.3", commonName)]), spki, EcdsaSha256, RandomNumberGenerator.GetBytes(72), version: 2),
        };

        var result = cases.ToDictionary(c => c.Key, c => Pem(c.Value));
        var validPem = Pem(valid);
        result["trailing-text"] = validPem + "extra\n";
        result["two-blocks"] = validPem + validPem;
        result["certificate-label"] = new string(PemEncoding.Write("CERTIFICATE", valid)) + "\n";
        result["other-block-first"] = new string(PemEncoding.Write("PRIVATE KEY", RandomNumberGenerator.GetBytes(48))) + "\n" + validPem;
        return result;
    }

    /// <summary>A validly signed P-256 request for <paramref name="commonName"/> (no SAN), as DER.</summary>
    public static byte[] Valid(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Signed(key, Name([("2.5.4.3", commonName)]), key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>One seeded mutation of <paramref name="der"/>: a flipped, changed, dropped or inserted byte, a cut, or a copied slice.</summary>
    public static byte[] Mutate(byte[] der, Random random)
    {
        var bytes = new List<byte>(der);
        var rounds = random.Next(1, 4);
        for (var r = 0; r < rounds && bytes.Count > 1; r++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    var length = random.Next(1, Math.Min(16, bytes.Count - at) + 1);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
            }
        }

        return [.. bytes];
    }

    public static string Pem(byte[] der) => new string(PemEncoding.Write("CERTIFICATE REQUEST", der)) + "\n";

    private static byte[] Signed(ECDsa key, byte[] name, byte[] spki)
    {
        var info = Info(name, spki, 0);
        return Assemble(info, EcdsaSha256, key.SignData(info, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    private static byte[] Raw(byte[] name, byte[] spki, string signatureAlgorithm, byte[] signature, int version = 0)
        => Assemble(Info(name, spki, version), signatureAlgorithm, signature);

    private static byte[] Info(byte[] name, byte[] spki, int version)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteInteger(version);
            w.WriteEncodedValue(name);
            w.WriteEncodedValue(spki);
            using (w.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
            }
        }

        return w.Encode();
    }

    private static byte[] Assemble(byte[] info, string signatureAlgorithm, byte[] signature)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteEncodedValue(info);
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier(signatureAlgorithm);
            }

            w.WriteBitString(signature);
        }

        return w.Encode();
    }

    private static byte[] Name(IEnumerable<(string Oid, string Value)> attributes) => NameRaw(w =>
    {
        foreach (var (oid, value) in attributes)
        {
            using (w.PushSetOf())
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier(oid);
                w.WriteCharacterString(UniversalTagNumber.UTF8String, value);
            }
        }
    });

    private static byte[] NameRaw(Action<AsnWriter> write)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            write(w);
        }

        return w.Encode();
    }

    private static byte[] Spki(string algorithm, string? parameterOid, byte[] key)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier(algorithm);
                if (parameterOid is not null)
                {
                    w.WriteObjectIdentifier(parameterOid);
                }
            }

            w.WriteBitString(key);
        }

        return w.Encode();
    }

    private static byte[] RsaSpki(int bits)
    {
        var modulus = RandomNumberGenerator.GetBytes(bits / 8);
        modulus[0] |= 0x80;
        var key = new AsnWriter(AsnEncodingRules.DER);
        using (key.PushSequence())
        {
            key.WriteIntegerUnsigned(modulus);
            key.WriteInteger(65537);
        }

        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier("1.2.840.113549.1.1.1");
                w.WriteNull();
            }

            w.WriteBitString(key.Encode());
        }

        return w.Encode();
    }

    /// <summary>The key of <paramref name="key"/> with the curve spelled out (SpecifiedECDomain) instead of named.</summary>
    private static byte[] ExplicitParametersSpki(ECDsa key)
    {
        var p = key.ExportExplicitParameters(false);
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier("1.2.840.10045.2.1");
                using (w.PushSequence())
                {
                    w.WriteInteger(1);
                    using (w.PushSequence())
                    {
                        w.WriteObjectIdentifier("1.2.840.10045.1.1");
                        w.WriteIntegerUnsigned(p.Curve.Prime);
                    }

                    using (w.PushSequence())
                    {
                        w.WriteOctetString(p.Curve.A);
                        w.WriteOctetString(p.Curve.B);
                    }

                    w.WriteOctetString([0x04, .. p.Curve.G.X!, .. p.Curve.G.Y!]);
                    w.WriteIntegerUnsigned(p.Curve.Order);
                    w.WriteInteger(1);
                }
            }

            w.WriteBitString([0x04, .. p.Q.X!, .. p.Q.Y!]);
        }

        return w.Encode();
    }
}
