namespace Sndctl.Provisioning.Core;

/// <summary>How a register or renew call ended.</summary>
public enum ProvisioningOutcome
{
    /// <summary>The device's current certificate is returned unchanged.</summary>
    Current,
    /// <summary>A new certificate was issued and is returned.</summary>
    Issued,
    /// <summary>Issuance is under way; call again after <see cref="ProvisioningResult.RetryAfter"/>.</summary>
    Pending,
    /// <summary>Unknown device or wrong secret (indistinguishable on purpose).</summary>
    Unauthorized,
    /// <summary>The device is disabled.</summary>
    Disabled,
    /// <summary>The hostname is not the device's own.</summary>
    HostnameMismatch,
    /// <summary>The request is malformed (see <see cref="ProvisioningResult.Detail"/>).</summary>
    Invalid,
    /// <summary>The CA or DNS cannot issue now; call again after <see cref="ProvisioningResult.RetryAfter"/>.</summary>
    Unavailable,
    /// <summary>The CA refused for good (see <see cref="ProvisioningResult.Detail"/>).</summary>
    Failed,
    /// <summary>
    /// The device asked for more early re-issuances than <see cref="DeviceProvisioningOptions.DeviceIssuanceLimit"/>
    /// allows; call again after <see cref="ProvisioningResult.RetryAfter"/>.
    /// </summary>
    IssuanceLimited,
    /// <summary>
    /// The device changed its addresses more often than <see cref="AddressOptions.ChangesPerHour"/> allows; call again
    /// after <see cref="ProvisioningResult.RetryAfter"/>.
    /// </summary>
    AddressChangesLimited,
    /// <summary>
    /// The CA's budget cannot cover a new certificate now: the device is queued (<see cref="ProvisioningResult.QueuePosition"/>,
    /// <see cref="ProvisioningResult.EstimatedAt"/>); call again after <see cref="ProvisioningResult.RetryAfter"/>.
    /// </summary>
    Queued,
}
