namespace Sndctl.Provisioning.Testing.Contracts;

/// <summary>An implementation broke a promise of its contract: the message says what was expected and what came.</summary>
public sealed class ContractViolationException(string message) : Exception(message);
