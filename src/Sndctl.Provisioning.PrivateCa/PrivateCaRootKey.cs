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
    /// copy: store the key somewhere safe first, then call <see cref="RemoveFromDatabaseAsync"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The CA is loaded from files, or the key was removed already.</exception>
    public Task<string> ExportAsync(CancellationToken cancellationToken)
        => Translate(() => _authority.ExportRootKeyAsync(cancellationToken));

    /// <summary>
    /// Removes the root key from the database, after checking that <paramref name="exportedPem"/> is that
    /// key (so a failed or wrong export never leaves the CA without its root). Issuing goes on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The key given is not the root key, or it was removed already.</exception>
    public Task RemoveFromDatabaseAsync(string exportedPem, CancellationToken cancellationToken)
        => Translate(async () =>
        {
            await _authority.RemoveRootKeyAsync(exportedPem, cancellationToken).ConfigureAwait(false);
            return exportedPem;
        });

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
