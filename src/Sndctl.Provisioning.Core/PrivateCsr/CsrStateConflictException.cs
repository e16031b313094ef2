namespace Sndctl.Provisioning.Core;

/// <summary>
/// The request is not in a state that allows the action (approving one that is decided already, revoking the
/// certificate of one that has none or was revoked); nothing changed (HTTP: 409).
/// </summary>
public sealed class CsrStateConflictException(string message) : Exception(message);
