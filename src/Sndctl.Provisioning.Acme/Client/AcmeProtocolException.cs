
namespace Sndctl.Provisioning.Acme;

/// <summary>The ACME server's answer was not what RFC 8555 prescribes (missing header, bad JSON).</summary>
public sealed class AcmeProtocolException(string message, Exception? innerException = null) : Exception(message, innerException);
