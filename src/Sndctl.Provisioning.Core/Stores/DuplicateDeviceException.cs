namespace Sndctl.Provisioning.Core;

/// <summary>A device with that ID exists already.</summary>
public sealed class DuplicateDeviceException(string message, Exception? innerException = null) : Exception(message, innerException);
