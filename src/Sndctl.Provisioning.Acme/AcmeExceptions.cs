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

/// <summary>A CA rate limit was reached (<c>rateLimited</c>); wait <see cref="AcmeProblemException.RetryAfter"/>.</summary>
public sealed class AcmeRateLimitedException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);

/// <summary>The CA rejected the nonce again after the client retried with a fresh one.</summary>
public sealed class AcmeBadNonceException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);

/// <summary>The account is not allowed to do this (<c>unauthorized</c>).</summary>
public sealed class AcmeUnauthorizedException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);

/// <summary>No account exists for the key (<c>accountDoesNotExist</c>).</summary>
public sealed class AcmeAccountDoesNotExistException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);

/// <summary>The CA requires an External Account Binding for new accounts.</summary>
public sealed class AcmeExternalAccountRequiredException(AcmeProblem problem, HttpStatusCode statusCode, Uri? requestUri, TimeSpan? retryAfter)
    : AcmeProblemException(problem, statusCode, requestUri, retryAfter);

/// <summary>
/// An authorization or order became <c>invalid</c>: the CA could not validate a challenge or refused
/// to issue. <see cref="Problem"/> carries the CA's reason.
/// </summary>
public sealed class AcmeValidationException(string message, AcmeProblem? problem) : Exception(message)
{
    /// <summary>The CA's reason, if it gave one.</summary>
    public AcmeProblem? Problem { get; } = problem;
}

/// <summary>The ACME server's answer was not what RFC 8555 prescribes (missing header, bad JSON).</summary>
public sealed class AcmeProtocolException(string message, Exception? innerException = null) : Exception(message, innerException);
