using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// revokeCert (RFC 8555 §7.6) signed by the account of the certificate's device: revoked at the CA that issued it
/// (and on the private CA's revocation list), through the admin service's own revocation, so history and events
/// say so as for an admin's.
/// </summary>
internal sealed class AcmeRevocation(ICertificateStore certificates, IDeviceAdminService admin)
{
    public async Task<AcmeResult> RevokeAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        if (call.Jws.PayloadObject() is not { } payload || AcmeJson.String(payload, "certificate") is not { } text || !Base64Url.IsValid(text) || text.Length > 16_384)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("revokeCert takes {\"certificate\": the certificate's DER in base64url}."));
        }

        if (payload.TryGetProperty("reason", out var reason) && (reason.ValueKind != JsonValueKind.Number || !reason.TryGetInt32(out var code) || code is < 0 or > 10 or 7))
        {
            return AcmeResult.Of(AcmeProblem.BadRevocationReason("reason must be an RFC 5280 CRLReason code: 0 to 10, not 7."));
        }

        var der = Base64Url.DecodeFromChars(text);
        string serial;
        try
        {
            using var presented = X509CertificateLoader.LoadCertificate(der);
            serial = presented.SerialNumber;
        }
        catch (CryptographicException)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The certificate cannot be read."));
        }

        var stored = (await certificates.FindBySerialNumberAsync(serial, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(c => LeafOf(c).AsSpan().SequenceEqual(der));
        if (stored is null || stored.DeviceId != call.Device!.DeviceId)
        {
            return AcmeResult.Of(AcmeProblem.Unauthorized("This account may revoke only certificates of its own device."));
        }

        if (stored.RevokedAt is not null)
        {
            return AcmeResult.Of(AcmeProblem.AlreadyRevoked("The certificate is revoked already."));
        }

        return await admin.RevokeCertificateAsync(stored.DeviceId, stored.Id, "acme:" + call.Account!.Id, cancellationToken).ConfigureAwait(false) switch
        {
            RevokeOutcome.Revoked => new AcmeResult(200, [], null),
            RevokeOutcome.NoCertificate => AcmeResult.Of(AcmeProblem.AlreadyRevoked("The certificate is revoked or expired already.")),
            RevokeOutcome.IssuerMismatch => AcmeResult.Of(AcmeProblem.Unauthorized("The certificate came from an issuer this server no longer uses: it cannot revoke it.")),
            _ => AcmeResult.Of(AcmeProblem.Unauthorized("The account's device was deleted.")),
        };
    }

    /// <summary>The stored certificate's leaf, DER (the first block of its chain).</summary>
    internal static byte[] LeafOf(DeviceCertificate certificate)
    {
        var pem = PemEncoding.Find(certificate.CertificatePem);
        return Convert.FromBase64String(certificate.CertificatePem[pem.Base64Data]);
    }
}
