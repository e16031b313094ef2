using System.Net;

namespace Sndctl.Provisioning.Acme;

/// <summary>The account is not allowed to do this (<c>unauthorized</c>).</summary>
public sealed class AcmeUnauthorizedException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);
