namespace Sndctl.Provisioning.Core;

/// <summary>What a device listing is ordered by (ties by device ID).</summary>
public enum DeviceSort
{
    /// <summary>When the device was created (default, newest first).</summary>
    Created = 0,

    /// <summary>The device ID.</summary>
    DeviceId = 1,

    /// <summary>Status, by name: active, disabled, pending (ties by device ID in the same direction).</summary>
    Status = 2,

    /// <summary>When the device last called.</summary>
    LastSeen = 3,

    /// <summary>The end of the current certificate (devices without one last).</summary>
    Expiry = 4,
}
