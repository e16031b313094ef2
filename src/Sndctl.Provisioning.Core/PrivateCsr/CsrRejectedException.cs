namespace Sndctl.Provisioning.Core;

/// <summary>The submission is not a CSR or breaks an input limit; nothing was stored (HTTP: 400).</summary>
public sealed class CsrRejectedException(string message) : Exception(message);
