namespace Sndctl.Provisioning.Core;

/// <summary>An admin request the server cannot accept; the message says what to fix.</summary>
public sealed class DeviceValidationException(string message) : Exception(message);
