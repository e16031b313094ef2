namespace Sndctl.Provisioning.Core;

/// <summary>
/// An order placed through the ACME front door (RFC 8555 §7.1.3) for the device's own hostname. Its one
/// authorization is valid from the start (the account's External Account Binding is the proof), so an order
/// goes ready → processing (the issuance runs, or the CA budget queues the device) → valid (or invalid).
/// </summary>
public sealed class DeviceAcmeOrder
{
    /// <summary>The order's ID, the last segment of its URL (random, URL-safe).</summary>
    public required string Id { get; init; }

    /// <summary>The account that placed it.</summary>
    public required string AccountId { get; init; }

    /// <summary>The device it is for.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The one identifier: the device's hostname.</summary>
    public required string Hostname { get; init; }

    /// <summary>The order's state.</summary>
    public DeviceAcmeOrderStatus Status { get; set; }

    /// <summary>When the order was placed.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When an order not yet valid stops being usable.</summary>
    public DateTimeOffset Expires { get; set; }

    /// <summary>The CSR the client finalized with (DER), kept while the issuance runs; cleared when the order is decided.</summary>
    public byte[]? Csr { get; set; }

    /// <summary>The issued certificate (<see cref="DeviceCertificate.Id"/>) once valid.</summary>
    public Guid? CertificateId { get; set; }

    /// <summary>The ACME problem type (<c>urn:ietf:params:acme:error:…</c>) when invalid.</summary>
    public string? ErrorType { get; set; }

    /// <summary>What went wrong, as the client is told, when invalid.</summary>
    public string? ErrorDetail { get; set; }

    /// <summary>Optimistic concurrency token; stores change it on every update.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();
}

/// <summary>The state of a <see cref="DeviceAcmeOrder"/>, as RFC 8555 §7.1.6 names them.</summary>
public enum DeviceAcmeOrderStatus
{
    /// <summary>Placed; the authorization is valid, so it waits for finalize.</summary>
    Ready = 0,

    /// <summary>Finalized: the certificate is being issued, or the device waits in the CA budget's queue.</summary>
    Processing = 1,

    /// <summary>The certificate is issued.</summary>
    Valid = 2,

    /// <summary>Failed or expired; see the error.</summary>
    Invalid = 3,
}
