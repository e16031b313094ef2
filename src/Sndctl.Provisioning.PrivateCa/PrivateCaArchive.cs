using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Sndctl.Provisioning.PrivateCa;

/// <summary>
/// The private CA in and out of a deployment as one passphrase-encrypted PKCS#12 file (AES-256-CBC,
/// PBKDF2-SHA256, HMAC-SHA256 MAC; <c>openssl pkcs12 -passin file:F</c> opens it): the root (with its key unless it
/// was taken offline), the device issuing CA and the CSR CAs, under the friendly names <c>root</c>, <c>issuer</c>,
/// <c>webhook</c> and <c>private_server</c>. For moving a CA to a new deployment, keeping a recovery copy, or
/// bringing an existing root and intermediate (a file without those names: the self-signed certificate is the root,
/// the other CA with a key issues).
/// </summary>
public sealed class PrivateCaArchive
{
    private readonly CertificateAuthority _authority;

    internal PrivateCaArchive(CertificateAuthority authority) => _authority = authority;

    /// <summary>The CA as PKCS#12 encrypted with <paramref name="passphrase"/> (missing CSR CAs are made first when the root key is here).</summary>
    /// <exception cref="InvalidOperationException">The CA is loaded from files (they are its custody).</exception>
    public Task<byte[]> ExportPkcs12Async(string passphrase, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        return Translate(() => _authority.ExportPkcs12Async(passphrase, cancellationToken));
    }

    /// <summary>
    /// Stores the CA of <paramref name="pkcs12"/> in a deployment that has none yet, after checking that every
    /// certificate chains to the root and comes with its key (the root's may be absent: kept offline).
    /// </summary>
    /// <returns>The root certificate's SHA-256 fingerprint (hex), to compare with the source.</returns>
    /// <exception cref="InvalidOperationException">The file, its passphrase or its content is refused, or a CA exists already; nothing was stored.</exception>
    public Task<string> ImportPkcs12Async(byte[] pkcs12, string passphrase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pkcs12);
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        return Translate(() => _authority.ImportPkcs12Async(pkcs12, passphrase, cancellationToken));
    }

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
