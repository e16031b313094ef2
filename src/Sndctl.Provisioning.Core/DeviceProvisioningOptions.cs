namespace Sndctl.Provisioning.Core;

/// <summary>Options of the provisioning core.</summary>
public sealed class DeviceProvisioningOptions
{
    /// <summary>Device hostnames are <c>&lt;deviceId&gt;.&lt;BaseDomain&gt;</c>. Required.</summary>
    public string BaseDomain { get; set; } = string.Empty;

    /// <summary>The key type the server makes for devices that send no CSR.</summary>
    public DeviceKeyAlgorithm KeyAlgorithm { get; set; } = DeviceKeyAlgorithm.EcdsaP256;

    /// <summary>
    /// How long a register or renew call waits for an issuance before it answers 202 with
    /// Retry-After; the issuance goes on and the next call picks its result up.
    /// </summary>
    public TimeSpan IssuanceWaitBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The Retry-After sent with 202 while an issuance runs.</summary>
    public TimeSpan PendingRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The time to live of a device's issuance lease. The instance issuing renews it (a heartbeat every
    /// third of it) for as long as the issuance runs; an instance that dies frees its devices this long
    /// after its last heartbeat. Default 30 s.
    /// </summary>
    public TimeSpan IssuanceLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// This instance's stable name (say, the pod name of a StatefulSet, or host and port), the same
    /// across restarts and different for every instance sharing the database. When set, an instance
    /// that restarts takes over the leases its previous process left at once, instead of waiting for
    /// them to expire. Two running instances must never share it. Default: none (leases expire).
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>Device LAN addresses: which are accepted and how often they may change.</summary>
    public AddressOptions Addresses { get; } = new();

    /// <summary>Renewing ahead of the devices (<c>Provisioning:Renewal:*</c>).</summary>
    public RenewalOptions Renewal { get; } = new();

    /// <summary>How long records are kept (<c>Provisioning:Retention:*</c>).</summary>
    public RetentionOptions Retention { get; } = new();

    /// <summary>An issuance is abandoned after this long (DNS propagation included).</summary>
    public TimeSpan IssuanceTimeout { get; set; } = TimeSpan.FromMinutes(4);

    /// <summary>
    /// A device's last-seen time is written at most this often, so that the register fast path
    /// (a device asking again for the certificate it holds) rarely writes to the database.
    /// </summary>
    public TimeSpan LastSeenResolution { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Early re-issuances one device may cause per <see cref="DeviceIssuanceWindow"/>: a new key or CSR
    /// while its certificate is still valid and not yet due for renewal (factory resets, a device that
    /// loses its key). Beyond it the device is answered 429 until the oldest falls out of the window, so
    /// one device cannot burn the fleet's CA budget. Renewals never count. Default 5.
    /// </summary>
    public int DeviceIssuanceLimit { get; set; } = 5;

    /// <summary>The window of <see cref="DeviceIssuanceLimit"/>. Default 7 days (Let's Encrypt's window).</summary>
    public TimeSpan DeviceIssuanceWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Issuances of one device the CA may refuse (a CSR it will not sign, say) per <see cref="FailedIssuanceWindow"/>.
    /// Each refusal cost an order at the CA (its per-account order limit is the whole fleet's): beyond this the
    /// device is answered 429 <c>device-issuance-limit</c> until the oldest refusal leaves the window. Default 5.
    /// </summary>
    public int FailedIssuanceLimit { get; set; } = 5;

    /// <summary>The window of <see cref="FailedIssuanceLimit"/>. Default 1 hour (Let's Encrypt's failed-validation window).</summary>
    public TimeSpan FailedIssuanceWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most devices one batch call may create.</summary>
    public int MaxBatchSize { get; set; } = 10_000;

    /// <summary>The device IDs refused when no <see cref="ReservedDeviceIds"/> are configured.</summary>
    public static readonly IReadOnlyList<string> DefaultReservedDeviceIds =
        ["ns", "ns1", "ns2", "ns3", "ns4", "ns5", "ns6", "ns7", "ns8", "ns9", "www", "mail", "api", "admin"];

    /// <summary>
    /// Device IDs that may not be created, because the zone needs the names for itself
    /// (<c>Provisioning:ReservedDeviceIds</c>); <see langword="null"/> means <see cref="DefaultReservedDeviceIds"/>.
    /// A configured list replaces the defaults. Packages that publish names of their own in the zone add theirs
    /// (the embedded DNS server adds its in-zone name servers' labels).
    /// </summary>
    public IList<string>? ReservedDeviceIds { get; set; }

    /// <summary>Whether <paramref name="deviceId"/> is reserved (<see cref="ReservedDeviceIds"/>, or the defaults when none are set).</summary>
    public bool IsReservedDeviceId(string deviceId)
        => ReservedDeviceIds is { } configured ? configured.Contains(deviceId, StringComparer.Ordinal) : DefaultReservedDeviceIds.Contains(deviceId, StringComparer.Ordinal);
}
