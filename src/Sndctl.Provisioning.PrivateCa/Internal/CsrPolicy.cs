using System.Formats.Asn1;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The private-IP CSR policy. A request that is not a PEM PKCS#10 CSR is <see cref="CsrCheck.Malformed"/>
/// (400 to the client, nothing stored); one that parses but breaks a rule is denied, with a message
/// that says what to fix. Requested extensions are read only to be checked, never copied.
/// </summary>
internal static class CsrPolicy
{
    public const int MaxContentLength = 16_384;
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";

    /// <summary>subjectAltName, basicConstraints, keyUsage, extendedKeyUsage: the extensions an issued leaf carries.</summary>
    private static readonly HashSet<string> s_allowedExtensions = new(StringComparer.Ordinal) { "2.5.29.17", "2.5.29.19", "2.5.29.15", "2.5.29.37" };

    public static CsrCheck Check(string pem)
        => Pkcs10Request.TryDecodePem(pem, out var der, out var error) ? Check(der) : CsrCheck.Malformed("content: " + error);

    /// <summary>As <see cref="Check(string)"/>, for the DER of a request already taken out of its PEM.</summary>
    public static CsrCheck Check(byte[] der)
    {
        var csr = Pkcs10Request.Read(der, out var problem, out var error);
        if (csr is null)
        {
            return problem == Pkcs10Problem.Malformed ? CsrCheck.Malformed("content: " + error) : CsrCheck.Denied(error!);
        }

        try
        {
            return CheckRequest(csr);
        }
        catch (CryptographicException)
        {
            // An extension whose content .NET cannot decode (read lazily, so here rather than at load).
            return CsrCheck.Denied("The CSR carries an extension that cannot be read: make it again with openssl req (see docs/private-ca.md).");
        }
    }

    private static CsrCheck CheckRequest(Pkcs10Request csr)
    {
        var request = csr.Request;
        var names = new GeneralNames();
        var sanPresent = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extension in request.CertificateExtensions)
        {
            if (extension.Oid?.Value is not { } oid || !s_allowedExtensions.Contains(oid))
            {
                // Only what the issued certificate carries may be asked for: anything else would be stored
                // (a denied request is kept for a while) and is never copied into the certificate anyway.
                return CsrCheck.Denied($"The CSR asks for extension {Shorten(extension.Oid?.Value)}: only subjectAltName, keyUsage, extendedKeyUsage and basicConstraints (CA:false) may be requested; remove the others from the CSR's extensions.");
            }

            if (!seen.Add(oid))
            {
                return CsrCheck.Denied($"The CSR asks for extension {oid} twice.");
            }

            switch (oid)
            {
                case "2.5.29.17":
                    sanPresent = true;
                    if (!names.TryRead(extension.RawData))
                    {
                        return CsrCheck.Denied("The CSR's subjectAltName extension cannot be read.");
                    }

                    break;
                case "2.5.29.19" when new X509BasicConstraintsExtension(extension, extension.Critical).CertificateAuthority:
                    return CsrCheck.Denied("The CSR asks for a CA certificate (basicConstraints CA:TRUE): only end-entity server certificates are issued; remove basicConstraints from the CSR's extensions.");
                case "2.5.29.15" when (new X509KeyUsageExtension(extension, extension.Critical).KeyUsages & (X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign)) != 0:
                    return CsrCheck.Denied("The CSR asks for keyCertSign or cRLSign key usage: only server key usages are issued; use keyUsage = digitalSignature, keyEncipherment.");
                case "2.5.29.37":
                    var usages = new X509EnhancedKeyUsageExtension(extension, extension.Critical).EnhancedKeyUsages.Cast<Oid>().Where(o => o.Value != ServerAuth).ToList();
                    if (usages.Count > 0)
                    {
                        return CsrCheck.Denied($"The CSR asks for extended key usage {string.Join(", ", usages.Select(o => o.FriendlyName ?? o.Value))}: only serverAuth is issued; use extendedKeyUsage = serverAuth.");
                    }

                    break;
            }
        }

        var commonNames = csr.CommonNames.ToList();
        if (commonNames.Count > 1)
        {
            return CsrCheck.Denied("The CSR's subject has more than one CN: use exactly one, the IP address.");
        }

        var commonName = commonNames.SingleOrDefault();
        if (names.Dns.Count > 0)
        {
            return CsrCheck.Denied($"The CSR names DNS name(s) {string.Join(", ", names.Dns)}: private-IP certificates carry one IP address only; remove DNS entries from subjectAltName.");
        }

        if (names.Email.Count > 0 || names.Uri.Count > 0 || names.Other > 0)
        {
            return CsrCheck.Denied("The CSR names e-mail addresses, URIs or other names: private-IP certificates carry one IP address only; keep only IP.0 in subjectAltName.");
        }

        IPAddress address;
        if (sanPresent)
        {
            if (names.Ip.Count != 1)
            {
                return CsrCheck.Denied(names.Ip.Count == 0
                    ? "The CSR's subjectAltName has no IP address: add IP.0 = <your private IP>."
                    : $"The CSR names {names.Ip.Count} IP addresses ({string.Join(", ", names.Ip)}): exactly one is allowed; make one CSR per address.");
            }

            address = names.Ip[0];
        }
        else if (commonName is not null && IPAddress.TryParse(commonName, out var fromCn) && fromCn.AddressFamily == AddressFamily.InterNetwork && fromCn.ToString() == commonName)
        {
            // No subjectAltName at all (openssl req without -reqexts): the CN is the address.
            address = fromCn;
        }
        else
        {
            return CsrCheck.Denied("The CSR names no IP address: set CN and subjectAltName IP.0 to your private IP (see the openssl config in docs/private-ca.md).");
        }

        if (!AddressRanges.IsPrivateIPv4(address))
        {
            return CsrCheck.Denied($"{address} is not a private IPv4 address: only 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 are issued (public addresses can get certificates from a public CA).");
        }

        if (commonName != address.ToString())
        {
            return CsrCheck.Denied(commonName is null
                ? $"The CSR has no CN: set CN = {address}, the same as its IP address."
                : $"The CSR's CN '{commonName}' is not its IP address {address}: set CN = {address}.");
        }

        return CsrCheck.Accepted(address, request.PublicKey);
    }

    private static string Shorten(string? oid) => oid is null ? "(none)" : oid.Length <= 64 ? oid : oid[..64] + "…";

    /// <summary>The names of a subjectAltName extension, by kind.</summary>
    private sealed class GeneralNames
    {
        public List<IPAddress> Ip { get; } = [];

        public List<string> Dns { get; } = [];

        public List<string> Email { get; } = [];

        public List<string> Uri { get; } = [];

        public int Other { get; private set; }

        public bool TryRead(byte[] der)
        {
            try
            {
                var sequence = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
                while (sequence.HasData)
                {
                    var tag = sequence.PeekTag();
                    if (tag.TagClass != TagClass.ContextSpecific)
                    {
                        return false;
                    }

                    switch (tag.TagValue)
                    {
                        case 7:
                            var bytes = sequence.ReadOctetString(tag);
                            if (bytes.Length is not (4 or 16))
                            {
                                return false;
                            }

                            Ip.Add(new IPAddress(bytes));
                            break;
                        case 2:
                            Dns.Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                            break;
                        case 1:
                            Email.Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                            break;
                        case 6:
                            Uri.Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                            break;
                        default:
                            sequence.ReadEncodedValue();
                            Other++;
                            break;
                    }
                }

                return true;
            }
            catch (AsnContentException)
            {
                return false;
            }
        }
    }
}

/// <summary>The outcome of <see cref="CsrPolicy.Check(string)"/>.</summary>
internal sealed record CsrCheck(string? MalformedReason, string? DenialReason, IPAddress? Address, PublicKey? PublicKey)
{
    public static CsrCheck Malformed(string reason) => new(reason, null, null, null);

    public static CsrCheck Denied(string reason) => new(null, reason, null, null);

    public static CsrCheck Accepted(IPAddress address, PublicKey publicKey) => new(null, null, address, publicKey);
}
