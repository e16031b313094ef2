using System.Net;

namespace Sndctl.Provisioning.Acme;

/// <summary>The CA rejected the nonce again after the client retried with a fresh one.</summary>
public sealed class AcmeBadNonceException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);
