namespace Sndctl.Provisioning.Core;

/// <summary>Lifecycle state of a device.</summary>
public enum DeviceStatus
{
    /// <summary>Pre-provisioned by an admin; has never registered.</summary>
    Pending = 0,

    /// <summary>Registered at least once; may hold a certificate.</summary>
    Active = 1,

    /// <summary>Refused by the device API until an admin enables it again.</summary>
    Disabled = 2,
}
