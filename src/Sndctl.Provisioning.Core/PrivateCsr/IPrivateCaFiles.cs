namespace Sndctl.Provisioning.Core;

/// <summary>The private CA's public files: its root certificate, for clients to embed, and its CRLs.</summary>
public interface IPrivateCaFiles
{
    /// <summary>The names <see cref="GetCrlAsync"/> knows: the device-issuing CA's and each CSR intermediate's.</summary>
    IReadOnlyList<string> CrlNames { get; }

    /// <summary>The root certificate (PEM).</summary>
    /// <exception cref="CertificateAuthorityUnavailableException">The CA is not available.</exception>
    Task<string> GetRootPemAsync(CancellationToken cancellationToken);

    /// <summary>A current CRL (DER) by name (<c>devices</c>, <c>webhook</c>, <c>private_server</c>); null for an unknown name.</summary>
    /// <exception cref="CertificateAuthorityUnavailableException">The CA cannot sign a CRL now.</exception>
    Task<byte[]?> GetCrlAsync(string name, CancellationToken cancellationToken);
}
