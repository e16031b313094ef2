using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// Files the host keeps beside its database: the admin API key made at first start, and the
/// certificate that encrypts the Data Protection key ring. Created owner-read/write only.
/// </summary>
internal static class DataDirectory
{
    public const string AdminKeyFile = "admin-api-key";
    public const string KeyRingCertificateFile = "keyring-protection.pfx";

    public static void Ensure(string path)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Reads the stored admin key, or makes one; <paramref name="created"/> says it is new (print it once).</summary>
    public static string GetOrCreateAdminKey(string directory, out bool created)
    {
        var path = Path.Combine(directory, AdminKeyFile);
        if (File.Exists(path))
        {
            created = false;
            return File.ReadAllText(path).Trim();
        }

        var key = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        created = TryWriteNew(path, System.Text.Encoding.UTF8.GetBytes(key + "\n"));
        return created ? key : File.ReadAllText(path).Trim();
    }

    /// <summary>
    /// The key-ring certificate: the one configured, or one made at first start. The key ring in the
    /// database is useless without it, so a copy of the database alone reveals no private key.
    /// </summary>
    public static X509Certificate2 GetOrCreateKeyRingCertificate(string directory, string? configuredFile, string? password)
    {
        if (!string.IsNullOrEmpty(configuredFile))
        {
            // Said plainly at start, not as a crash loop: a missing or empty file (an example Secret applied as it is) or a wrong password.
            const string Key = "Provisioning:DataProtection:CertificateFile";
            if (!File.Exists(configuredFile) || new FileInfo(configuredFile).Length == 0)
            {
                throw new HostConfigurationException([$"{Key} '{configuredFile}' is missing or empty: make the key-ring certificate (a PKCS#12 file, docs/deployment.md) and mount it there."]);
            }

            try
            {
                return X509CertificateLoader.LoadPkcs12FromFile(configuredFile, password, X509KeyStorageFlags.EphemeralKeySet);
            }
            catch (CryptographicException ex)
            {
                throw new HostConfigurationException([$"{Key} '{configuredFile}' cannot be read as PKCS#12 with Provisioning:DataProtection:CertificatePassword ({ex.Message}): check the file and its password."]);
            }
        }

        var path = Path.Combine(directory, KeyRingCertificateFile);
        if (!File.Exists(path))
        {
            // RSA: Data Protection encrypts its XML key ring with EncryptedXml, which needs an RSA key.
            using var rsa = RSA.Create(3072);
            var request = new CertificateRequest("CN=Sndctl Provisioning key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, true));
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(100));
            TryWriteNew(path, certificate.Export(X509ContentType.Pkcs12));
        }

        return X509CertificateLoader.LoadPkcs12FromFile(path, null, X509KeyStorageFlags.EphemeralKeySet);
    }

    /// <summary>The certificates of <c>Provisioning:DataProtection:PreviousCertificates</c> (still unprotecting a key ring being rotated).</summary>
    public static X509Certificate2[] LoadPreviousKeyRingCertificates(IReadOnlyList<ProvisioningHostOptions.PreviousCertificateSection> previous)
    {
        var certificates = new X509Certificate2[previous.Count];
        for (var i = 0; i < previous.Count; i++)
        {
            var key = $"Provisioning:DataProtection:PreviousCertificates:{i}:File";
            var file = previous[i].File;
            if (string.IsNullOrEmpty(file) || !File.Exists(file))
            {
                throw new HostConfigurationException([$"{key} '{file}' is missing: it must name the key-ring certificate (PKCS#12) used before the rotation."]);
            }

            try
            {
                certificates[i] = X509CertificateLoader.LoadPkcs12FromFile(file, previous[i].Password, X509KeyStorageFlags.EphemeralKeySet);
            }
            catch (CryptographicException ex)
            {
                throw new HostConfigurationException([$"{key} '{file}' cannot be read as PKCS#12 with its Password ({ex.Message})."]);
            }
        }

        return certificates;
    }

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> unless it exists. Written to a temporary
    /// file first and moved into place, so instances sharing a data directory and starting together never
    /// read a half-written file: one wins, the others use the winner's.
    /// </summary>
    public static bool TryWriteNew(string path, byte[] content)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(content);
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process made it first; use theirs.
            File.Delete(temporary);
            return false;
        }
    }
}
