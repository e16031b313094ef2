using System.Net;

namespace Sndctl.Provisioning.Acme;

/// <summary>
/// The ACME server answered with a problem document (RFC 8555 §6.7). Common types have their own
/// subclasses; <see cref="Create"/> picks the right one.
/// </summary>
public class AcmeProblemException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AcmeProblemException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter = null)
        : base(Describe(problem, statusCode, requestUri))
    {
        Problem = problem;
        StatusCode = statusCode;
        RequestUri = requestUri;
        RetryAfter = retryAfter;
    }

    /// <summary>The problem document.</summary>
    public AcmeProblem Problem { get; }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The resource that answered.</summary>
    public Uri? RequestUri { get; }

    /// <summary>The answer's <c>Retry-After</c>, if it had one.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The problem type, e.g. <c>urn:ietf:params:acme:error:unauthorized</c>.</summary>
    public string? ProblemType => Problem.Type;

    /// <summary>Makes the subclass that matches the problem type.</summary>
    public static AcmeProblemException Create(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter) => problem.Type switch
    {
        AcmeErrorTypes.RateLimited => new AcmeRateLimitedException(problem, statusCode, requestUri, retryAfter),
        AcmeErrorTypes.BadNonce => new AcmeBadNonceException(problem, statusCode, requestUri, retryAfter),
        AcmeErrorTypes.Unauthorized => new AcmeUnauthorizedException(problem, statusCode, requestUri, retryAfter),
        AcmeErrorTypes.AccountDoesNotExist => new AcmeAccountDoesNotExistException(problem, statusCode, requestUri, retryAfter),
        AcmeErrorTypes.ExternalAccountRequired => new AcmeExternalAccountRequiredException(problem, statusCode, requestUri, retryAfter),
        _ => new AcmeProblemException(problem, statusCode, requestUri, retryAfter),
    };

    private static string Describe(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri)
        => $"The ACME server answered {(int)statusCode} {problem}" + (requestUri is null ? "." : $" at {requestUri.AbsolutePath}.");
}
