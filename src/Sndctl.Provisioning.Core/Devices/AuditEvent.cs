namespace Sndctl.Provisioning.Core;

/// <summary>Something that happened to a device: who, what, when. Never carries a secret or a key.</summary>
public sealed class AuditEvent
{
    /// <summary>Store identity, increasing.</summary>
    public long Id { get; init; }

    /// <summary>When it happened.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The device concerned, if any.</summary>
    public string? DeviceId { get; init; }

    /// <summary>Who did it: <c>admin:&lt;key id&gt;</c>, <c>device</c> or <c>system</c>.</summary>
    public required string Actor { get; init; }

    /// <summary>What happened, e.g. <see cref="AuditEventTypes.CertificateIssued"/>.</summary>
    public required string Type { get; init; }

    /// <summary>Human-readable detail (serial number, reason...).</summary>
    public string? Details { get; init; }
}

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
    /// <summary>An admin rotated the device secret.</summary>
    public const string SecretRotated = "device.secret_rotated";
    /// <summary>A certificate was issued to the device.</summary>
    public const string CertificateIssued = "certificate.issued";
    /// <summary>Issuing a certificate failed.</summary>
    public const string CertificateFailed = "certificate.failed";
    /// <summary>An admin revoked the device's certificate.</summary>
    public const string CertificateRevoked = "certificate.revoked";
    /// <summary>An admin approved a private-IP CSR.</summary>
    public const string CsrApproved = "csr.approved";
    /// <summary>An admin denied a private-IP CSR.</summary>
    public const string CsrDenied = "csr.denied";
    /// <summary>An admin revoked a private-IP certificate.</summary>
    public const string CsrRevoked = "csr.revoked";
}

/// <summary>Who the audit log names.</summary>
public static class AuditActors
{
    /// <summary>
    /// The key under which an authenticated admin's actor name (<c>admin:&lt;key id&gt;</c>) is kept in a
    /// request's items, so endpoints of other packages record the same actor.
    /// </summary>
    public const string HttpContextItemKey = "Sndctl.Provisioning.AdminActor";

    /// <summary>
    /// The service key under which the admin authentication of the HTTP package (an ASP.NET Core
    /// <c>IEndpointFilter</c>) is registered, so that admin endpoints mapped by other packages apply it
    /// by default without depending on that package.
    /// </summary>
    public const string AdminEndpointFilterKey = "Sndctl.Provisioning.AdminEndpointFilter";

    /// <summary>The server itself (issuance, revocation of unwanted certificates, jobs).</summary>
    public const string System = "system";
}
