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
    /// Makes any missing intermediate, then returns the root key (PKCS#8 PEM); with
    /// <paramref name="removeFromDatabase"/> the database keeps no copy afterwards.
    /// </summary>
    /// <exception cref="InvalidOperationException">The CA is loaded from files, or the key was removed already.</exception>
    public async Task<string> ExportAsync(bool removeFromDatabase, CancellationToken cancellationToken)
    {
        try
        {
            return await _authority.ExportRootKeyAsync(removeFromDatabase, cancellationToken).ConfigureAwait(false);
        }
        catch (PrivateCaUnavailableException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }
    }
}
