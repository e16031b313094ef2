using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Sndctl.Provisioning.PrivateCa;

/// <summary>
/// The private CA's root key, for keeping it offline: once the intermediates exist (device issuing CA,
/// webhook and private_server CSR CAs), the root is needed only to make a new intermediate.
/// </summary>
public sealed class PrivateCaRootKey
{
    private readonly CertificateAuthority _authority;

    internal PrivateCaRootKey(CertificateAuthority authority) => _authority = authority;

    /// <summary>
    /// Makes any missing intermediate, then returns the root key (PKCS#8 PEM). The database keeps its
    /// copy: store the key somewhere safe first, then call <see cref="RemoveFromDatabaseAsync(string, string?, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The CA is loaded from files, or the key was removed already.</exception>
    public Task<string> ExportAsync(CancellationToken cancellationToken)
        => Translate(() => _authority.ExportRootKeyAsync(cancellationToken));

    /// <summary>
    /// As <see cref="ExportAsync(CancellationToken)"/>, encrypted with <paramref name="passphrase"/> (PKCS#8
    /// <c>ENCRYPTED PRIVATE KEY</c>, AES-256-CBC, PBKDF2-SHA256): what <c>openssl pkey -passin</c> and
    /// <see cref="PrivateCaOptions.RootKeyPassphraseFile"/> read.
    /// </summary>
    public async Task<string> ExportAsync(string passphrase, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        var pem = await ExportAsync(cancellationToken).ConfigureAwait(false);
        using var key = CaCertificates.ImportPrivateKeyPem(pem);
        return CaCertificates.ExportEncryptedPrivateKeyPem(key, passphrase);
    }

    /// <summary>
    /// Removes the root key from the database, after checking that <paramref name="exportedPem"/> is that
    /// key (so a failed or wrong export never leaves the CA without its root). Issuing goes on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The key given is not the root key, or it was removed already.</exception>
    public Task RemoveFromDatabaseAsync(string exportedPem, CancellationToken cancellationToken)
        => RemoveFromDatabaseAsync(exportedPem, null, cancellationToken);

    /// <summary>As <see cref="RemoveFromDatabaseAsync(string, CancellationToken)"/>, for an export encrypted with <paramref name="passphrase"/>.</summary>
    /// <exception cref="InvalidOperationException">The key given (or its passphrase) is not the root key's, or it was removed already.</exception>
    public Task RemoveFromDatabaseAsync(string exportedPem, string? passphrase, CancellationToken cancellationToken)
        => Translate(async () =>
        {
            string plain;
            try
            {
                using var key = CaCertificates.ImportPrivateKeyPem(exportedPem, passphrase);
                plain = key.ExportPkcs8PrivateKeyPem();
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                throw new InvalidOperationException("The exported key cannot be read with that passphrase; the root key stays in the database.", ex);
            }

            await _authority.RemoveRootKeyAsync(plain, cancellationToken).ConfigureAwait(false);
            return plain;
        });

    /// <summary>
    /// Replaces the device issuing CA with a new intermediate under the same root (a new key; the old certificate is
    /// kept in the history). Devices' existing certificates still verify against the root; each instance issues under
    /// the new CA from its next start (restart them, one at a time). Needs the root key: the stored one, or
    /// <paramref name="rootKeyPem"/> (PEM, encrypted with <paramref name="passphrase"/> or not) when it was taken offline.
    /// </summary>
    /// <returns>The new issuing CA's subject and SHA-256 fingerprint (hex).</returns>
    /// <exception cref="InvalidOperationException">No root key, a key that is not the root's, or a CA loaded from files; nothing was changed.</exception>
    public Task<(string Subject, string Thumbprint)> RollOverIssuingCaAsync(string? rootKeyPem, string? passphrase, CancellationToken cancellationToken)
        => Translate(() => _authority.RollOverIssuerAsync(rootKeyPem, passphrase, cancellationToken));

    private static async Task<T> Translate<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }
    }
}
