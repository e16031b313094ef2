using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// The certificate that encrypts the Data Protection key ring in the database (every key the server keeps: the CA's,
/// the ACME account's, devices' server-made keys), and the ones it replaced. The database remembers which certificate
/// its key ring belongs to; an instance with another one refuses to start, naming the setting — so replicas on one
/// PostgreSQL that each made their own certificate, or a database restored without its certificate, fail at start
/// instead of failing every decryption later.
/// </summary>
internal sealed class KeyRingCertificates(X509Certificate2 current, X509Certificate2[] previous)
{
    /// <summary>The issuer-state key of the claim: the SHA-256 thumbprint of the certificate the key ring is encrypted with.</summary>
    public const string ClaimKey = "host/keyring-certificate/v1";

    public X509Certificate2 Current { get; } = current;

    public IReadOnlyList<X509Certificate2> Previous { get; } = previous;

    public static string Thumbprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>
    /// Claims the database for this instance's certificate, or checks the claim: the same certificate passes; one
    /// listed as previous moves the claim to the current one (this configuration carries the rotation); any other refuses.
    /// </summary>
    /// <exception cref="HostConfigurationException">The database's key ring belongs to a certificate this instance does not have.</exception>
    public async Task ClaimAsync(IIssuerStateStore state, CancellationToken cancellationToken)
    {
        var current = Thumbprint(Current);
        var claimed = await state.GetOrAddAsync(ClaimKey, current, cancellationToken).ConfigureAwait(false);
        if (string.Equals(claimed, current, StringComparison.Ordinal))
        {
            return;
        }

        if (Previous.Any(p => string.Equals(Thumbprint(p), claimed, StringComparison.Ordinal)))
        {
            await state.SetAsync(ClaimKey, current, cancellationToken).ConfigureAwait(false);
            return;
        }

        throw new HostConfigurationException([
            $"The key ring in this database is encrypted with the key-ring certificate SHA-256 {claimed}, and this instance has {current}. "
            + "Every instance on one database needs the same certificate: set Provisioning:DataProtection:CertificateFile to one PKCS#12 file shared by all "
            + "(a Kubernetes Secret, docs/deployment.md), or, while rotating it, list the old one in Provisioning:DataProtection:PreviousCertificates:0:File (docs/operations.md)."]);
    }
}

/// <summary>
/// <c>keyring rewrap</c>: re-encrypts every key of the key ring in the database with the current certificate (each
/// decrypted with the current or a previous one), so a rotated-out certificate can be retired. All or nothing.
/// Exit codes: 0 done, 3 a key cannot be decrypted with any certificate given (nothing changed).
/// </summary>
internal static class KeyRingCommands
{
    /// <summary>The element Data Protection wraps an encrypted master key in (XmlConstants.EncryptedSecretElementName).</summary>
    private static readonly System.Xml.Linq.XName s_encryptedSecret = System.Xml.Linq.XName.Get("encryptedSecret", "http://schemas.asp.net/2015/03/dataProtection");

    public static async Task<int> RewrapAsync(WebApplication app)
    {
        var certificates = app.Services.GetRequiredService<KeyRingCertificates>();
        var decryptor = new Microsoft.AspNetCore.DataProtection.XmlEncryption.EncryptedXmlDecryptor(app.Services);
        var encryptor = new Microsoft.AspNetCore.DataProtection.XmlEncryption.CertificateXmlEncryptor(certificates.Current, app.Services.GetRequiredService<ILoggerFactory>());
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Data.HostDbContext>();
        await db.Database.MigrateSerializedAsync();
        var rewrapped = 0;
        var keys = await db.DataProtectionKeys.ToListAsync();
        foreach (var key in keys)
        {
            var xml = System.Xml.Linq.XElement.Parse(key.Xml ?? string.Empty);
            var secrets = xml.Descendants(s_encryptedSecret).ToList();
            foreach (var secret in secrets)
            {
                System.Xml.Linq.XElement plain;
                try
                {
                    plain = decryptor.Decrypt(secret.Elements().Single());
                }
                catch (Exception ex) when (ex is CryptographicException or InvalidOperationException)
                {
                    await Console.Error.WriteLineAsync($"Key {key.FriendlyName} cannot be decrypted with the current or a previous certificate ({ex.Message}): add the certificate it was made with to Provisioning:DataProtection:PreviousCertificates. Nothing was changed.");
                    return 3;
                }

                var encrypted = encryptor.Encrypt(plain);
                secret.ReplaceWith(new System.Xml.Linq.XElement(s_encryptedSecret, new System.Xml.Linq.XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!), encrypted.EncryptedElement));
            }

            if (secrets.Count > 0)
            {
                key.Xml = xml.ToString(System.Xml.Linq.SaveOptions.DisableFormatting);
                rewrapped++;
            }
        }

        await db.SaveChangesAsync(); // one transaction: every key or none
        await scope.ServiceProvider.GetRequiredService<IIssuerStateStore>().SetAsync(KeyRingCertificates.ClaimKey, KeyRingCertificates.Thumbprint(certificates.Current), CancellationToken.None);
        Console.WriteLine($"Re-encrypted {rewrapped} of {keys.Count} key(s) with the key-ring certificate SHA-256 {KeyRingCertificates.Thumbprint(certificates.Current)}. "
            + "Once every instance runs with this certificate, Provisioning:DataProtection:PreviousCertificates can go.");
        return 0;
    }
}
