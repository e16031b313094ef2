using System.Net;

namespace Sndctl.Provisioning.Acme;

/// <summary>No account exists for the key (<c>accountDoesNotExist</c>).</summary>
public sealed class AcmeAccountDoesNotExistException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);
