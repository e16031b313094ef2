using System.Net;

namespace Sndctl.Provisioning.Acme;

/// <summary>A CA rate limit was reached (<c>rateLimited</c>); wait <see cref="AcmeProblemException.RetryAfter"/>.</summary>
public sealed class AcmeRateLimitedException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);
