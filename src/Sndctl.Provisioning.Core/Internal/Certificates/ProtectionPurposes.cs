namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Data Protection purpose strings. Changing one makes existing ciphertext unreadable.</summary>
internal static class ProtectionPurposes
{
    public const string DeviceSecretKey = "Sndctl.Provisioning.DeviceSecretKey.v1";
    public const string DevicePrivateKey = "Sndctl.Provisioning.DevicePrivateKey.v1";
    public const string DeviceSecret = "Sndctl.Provisioning.DeviceSecret.v1";
}
