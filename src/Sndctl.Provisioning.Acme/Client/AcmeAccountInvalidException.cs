using System.Net;

namespace Sndctl.Provisioning.Acme;

/// <summary>
/// The CA answered <c>unauthorized</c> and the account resource confirms the account is the reason: the CA no
/// longer knows it, or it is deactivated or revoked. Register an account again.
/// </summary>
public sealed class AcmeAccountInvalidException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);
