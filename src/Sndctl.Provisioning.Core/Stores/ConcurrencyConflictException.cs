namespace Sndctl.Provisioning.Core;

/// <summary>An optimistic concurrency check failed: the row changed since it was read.</summary>
public sealed class ConcurrencyConflictException(string message, Exception? innerException = null) : Exception(message, innerException);
