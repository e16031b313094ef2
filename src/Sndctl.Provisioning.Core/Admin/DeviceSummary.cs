namespace Sndctl.Provisioning.Core;

/// <summary>A device in a listing, with its current certificate.</summary>
public sealed record DeviceSummary(Device Device, DeviceCertificate? Certificate);
