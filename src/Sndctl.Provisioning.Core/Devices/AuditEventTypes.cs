namespace Sndctl.Provisioning.Core;

/// <summary>The event types the server records.</summary>
public static class AuditEventTypes
{
    /// <summary>An admin created the device.</summary>
    public const string DeviceCreated = "device.created";
    /// <summary>An admin disabled the device.</summary>
    public const string DeviceDisabled = "device.disabled";
    /// <summary>An admin enabled the device.</summary>
    public const string DeviceEnabled = "device.enabled";
    /// <summary>An admin deleted the device.</summary>
    public const string DeviceDeleted = "device.deleted";
    /// <summary>The device secret was replaced: by an admin (actor: the admin), or by the device's first call with the secret it asked for (actor <c>device</c>).</summary>
    public const string SecretRotated = "device.secret_rotated";
    /// <summary>The device asked for a new secret (<c>POST /api/v1/secret</c>); it replaces the old one at its first use.</summary>
    public const string SecretRequested = "device.secret_requested";
    /// <summary>A certificate was issued to the device.</summary>
    public const string CertificateIssued = "certificate.issued";
    /// <summary>Issuing a certificate failed.</summary>
    public const string CertificateFailed = "certificate.failed";
    /// <summary>An admin revoked the device's certificate.</summary>
    public const string CertificateRevoked = "certificate.revoked";
    /// <summary>A device's current certificate came within 7 days of its end without a renewal (the expiry sweep).</summary>
    public const string CertificateExpiring = "certificate.expiring";

    /// <summary>A DNS record left behind by an issuance that ended without removing it was removed.</summary>
    public const string DnsRecordRemoved = "dns.orphan_removed";

    /// <summary>An admin approved a private-IP CSR.</summary>
    public const string CsrApproved = "csr.approved";
    /// <summary>An admin denied a private-IP CSR.</summary>
    public const string CsrDenied = "csr.denied";
    /// <summary>An admin revoked a private-IP certificate.</summary>
    public const string CsrRevoked = "csr.revoked";

    /// <summary>The device's ACME client made an account at the front door (External Account Binding with the device's secret).</summary>
    public const string AcmeAccountCreated = "acme.account_created";
    /// <summary>The device's ACME client deactivated its front-door account.</summary>
    public const string AcmeAccountDeactivated = "acme.account_deactivated";
    /// <summary>The device's ACME client changed its front-door account's key.</summary>
    public const string AcmeAccountKeyChanged = "acme.account_key_changed";
}
