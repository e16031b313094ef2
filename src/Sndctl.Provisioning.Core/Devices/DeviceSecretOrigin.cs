namespace Sndctl.Provisioning.Core;

/// <summary>Who made a device's current secret.</summary>
public enum DeviceSecretOrigin
{
    /// <summary>The factory: made when the device was created, or by an admin's rotation. Whoever saw the factory's records (or unpacked a firmware image) may hold it.</summary>
    Factory = 0,

    /// <summary>The device itself replaced it (<c>POST /api/v1/secret</c>): only the device and the server know it.</summary>
    Device = 1,
}
