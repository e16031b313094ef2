namespace Sndctl.Provisioning.Core;

/// <summary>A device known to the provisioning server.</summary>
public sealed class Device
{
    /// <summary>The device's ID: a DNS label, and the first label of its hostname.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The device's fully qualified hostname, <c>&lt;deviceId&gt;.&lt;base domain&gt;</c>.</summary>
    public required string Hostname { get; init; }

    /// <summary>The keyed hash of the device secret, which the device API checks. The secret itself is never stored in clear.</summary>
    public required byte[] SecretHash { get; set; }

    /// <summary>
    /// The device secret encrypted with Data Protection, kept to check MACs made with it (the ACME front door's
    /// External Account Binding): a copy of the database alone reveals no secret. Null for devices made before
    /// it was kept, until their secret is rotated.
    /// </summary>
    public string? ProtectedSecret { get; set; }

    /// <summary>
    /// The keyed hash of a secret the device asked for (<c>POST /api/v1/secret</c>) and has not used yet. Both secrets
    /// work until the first successful call made with the new one, which makes it the device's secret: a device that
    /// loses power between the answer and saving the new secret keeps working with the old one.
    /// </summary>
    public byte[]? PendingSecretHash { get; set; }

    /// <summary>The pending secret encrypted with Data Protection, as <see cref="ProtectedSecret"/>.</summary>
    public string? PendingProtectedSecret { get; set; }

    /// <summary>Who made the device's current secret: the factory (an admin) or the device itself.</summary>
    public DeviceSecretOrigin SecretOrigin { get; set; }

    /// <summary>When the current secret was set (made, rotated by an admin, or replaced by the device); null before it was recorded.</summary>
    public DateTimeOffset? SecretChangedAt { get; set; }

    /// <summary>What the device saw when it last resolved its own hostname through its LAN's resolver.</summary>
    public DeviceNameResolution NameResolution { get; set; }

    /// <summary>When the device last reported <see cref="NameResolution"/>.</summary>
    public DateTimeOffset? NameResolutionAt { get; set; }

    /// <summary>The device's lifecycle state.</summary>
    public DeviceStatus Status { get; set; }

    /// <summary>Free-form labels set by the admin (batch, model, site...).</summary>
    public IDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>When the device was pre-provisioned.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the device first received a certificate.</summary>
    public DateTimeOffset? RegisteredAt { get; set; }

    /// <summary>When the device last authenticated successfully.</summary>
    public DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>
    /// The device's LAN addresses as it last reported them (at most <see cref="DeviceAddresses.MaxCount"/>,
    /// canonical and sorted): published as A/AAAA records for <see cref="Hostname"/> while the device is not disabled.
    /// </summary>
    public IReadOnlyList<System.Net.IPAddress> Addresses { get; set; } = [];

    /// <summary>
    /// <see langword="true"/> while the DNS provider may not hold what <see cref="Addresses"/> and <see cref="Status"/>
    /// say (a publication failed or has not run yet); the address-record job publishes such devices again.
    /// </summary>
    public bool AddressRecordsPending { get; set; }

    /// <summary>
    /// When the device's allowance of address changes (<see cref="AddressOptions.ChangesPerHour"/>) is whole again: each
    /// change moves it one share of the hour on, from now or from where it was; a change that would move it more than an
    /// hour ahead is refused (a generic cell-rate limit). Kept on the row, so a change costs one row write. Null before
    /// the first change.
    /// </summary>
    public DateTimeOffset? AddressChangesRestoredAt { get; set; }

    /// <summary>The certificate the device currently holds, if any.</summary>
    public Guid? CurrentCertificateId { get; set; }

    /// <summary>
    /// When the current certificate ends (its <see cref="DeviceCertificate.NotAfter"/>), kept beside
    /// <see cref="CurrentCertificateId"/> and changed with it, so that a fleet is sorted and counted by expiry
    /// through an index instead of a join per device. Null while the device holds no certificate.
    /// </summary>
    public DateTimeOffset? CurrentCertificateNotAfter { get; set; }

    /// <summary>Optimistic concurrency token; stores change it on every update.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();
}
