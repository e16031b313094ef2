namespace Sndctl.Provisioning.Core;

/// <summary>
/// An ACME account of the front door (RFC 8555 §7.1.2): an account key bound to one device by External Account
/// Binding, so the device's own ACME client (Caddy, certbot, lego) orders the device's certificate.
/// </summary>
public sealed class DeviceAcmeAccount
{
    /// <summary>The account's ID, the last segment of its URL (random, URL-safe).</summary>
    public required string Id { get; init; }

    /// <summary>The device the account belongs to.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The account key as a public JWK in RFC 7638 canonical form.</summary>
    public required string Jwk { get; set; }

    /// <summary>The RFC 7638 SHA-256 thumbprint of <see cref="Jwk"/>, base64url: one account per key.</summary>
    public required string KeyThumbprint { get; set; }

    /// <summary>The account's state.</summary>
    public DeviceAcmeAccountStatus Status { get; set; }

    /// <summary>When the account was made.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Optimistic concurrency token; stores change it on every update.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();
}

/// <summary>The state of a <see cref="DeviceAcmeAccount"/>.</summary>
public enum DeviceAcmeAccountStatus
{
    /// <summary>In use.</summary>
    Valid = 0,

    /// <summary>Deactivated by its holder (RFC 8555 §7.3.6); never valid again.</summary>
    Deactivated = 1,
}
