using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>The root certificate and the three CRLs, by the names the HTTP layer serves them under.</summary>
internal sealed class PrivateCaFiles(CertificateAuthority authority, CsrRevocationLists crls) : IPrivateCaFiles
{
    public IReadOnlyList<string> CrlNames { get; } = [CsrRevocationLists.DevicesFile, CsrTypes.Name(CsrCertificateType.Webhook), CsrTypes.Name(CsrCertificateType.PrivateServer)];

    public async Task<string> GetRootPemAsync(CancellationToken cancellationToken)
        => (await authority.GetAsync(cancellationToken).ConfigureAwait(false)).RootPem;

    public async Task<byte[]?> GetCrlAsync(string name, CancellationToken cancellationToken)
    {
        if (name == CsrRevocationLists.DevicesFile)
        {
            return await crls.GetDevicesAsync(cancellationToken).ConfigureAwait(false);
        }

        return name is not null && name != "" && CsrTypes.TryParse(name, out var type)
            ? await crls.GetAsync(type, cancellationToken).ConfigureAwait(false)
            : null;
    }
}
