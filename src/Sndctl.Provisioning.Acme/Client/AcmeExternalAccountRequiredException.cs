using System.Net;

namespace Sndctl.Provisioning.Acme;

/// <summary>The CA requires an External Account Binding for new accounts.</summary>
public sealed class AcmeExternalAccountRequiredException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);
