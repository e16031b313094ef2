using System.Net.Sockets;
using DnsClient;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>What a failed ACME exchange means for the fleet, whatever step it came from.</summary>
internal enum AcmeFailureKind
{
    /// <summary>A rate limit on one set of identifiers: hold back only that name.</summary>
    NameRateLimited,

    /// <summary>A rate limit on the account or registered domain: no new orders for anyone until it passes.</summary>
    DeploymentRateLimited,

    /// <summary>The CA no longer knows our account: register again, then retry.</summary>
    AccountGone,

    /// <summary>The CA, its network path or the DNS is failing for now: retry after <see cref="AcmeFailure.RetryAfter"/>.</summary>
    Unavailable,

    /// <summary>The CA refused this request (bad CSR, rejected identifier, failed validation): retrying does not help.</summary>
    Refused,
}

/// <summary>
/// One classified failure: its kind, when to try again, a sentence for the operator, and whether it is on our DNS
/// side (the DNS provider, propagation, DNS queries) rather than the CA's: another CA would fail the same way.
/// </summary>
internal sealed record AcmeFailure(AcmeFailureKind Kind, TimeSpan? RetryAfter, string Message, bool OurDnsSide = false);

/// <summary>
/// The one place that decides what an ACME failure means, keyed on RFC 8555 problem types (and, for
/// rate limits, on the limit the CA names: <see cref="AcmeRateLimitClassifier"/>). Pure: the issuer
/// acts on the answer (gate, account, exception).
/// </summary>
internal static class AcmeFailureClassifier
{
    private static readonly TimeSpan s_unavailable = TimeSpan.FromSeconds(60);

    /// <summary>Classifies <paramref name="exception"/> by its type; <see langword="null"/> for what is not an ACME, HTTP or DNS failure.</summary>
    public static AcmeFailure? Classify(Exception exception) => exception switch
    {
        AcmeAccountDoesNotExistException or AcmeAccountInvalidException => new(AcmeFailureKind.AccountGone, TimeSpan.FromSeconds(10), $"The CA no longer knows the ACME account; it is registered again on the next attempt. ({exception.Message})"),
        AcmeProblemException problem => ClassifyProblem(problem),
        AcmeValidationException validation => new(AcmeFailureKind.Refused, null, $"DNS-01 validation failed: {validation.Message}"),
        DnsPropagationException dns => new(AcmeFailureKind.Unavailable, s_unavailable, dns.Message, OurDnsSide: true),
        HttpRequestException or TimeoutException or IOException => new(AcmeFailureKind.Unavailable, s_unavailable, $"The ACME server could not be reached: {exception.Message}"),
        AcmeProtocolException => new(AcmeFailureKind.Unavailable, s_unavailable, $"The ACME server answered unexpectedly: {exception.Message}"),
        SocketException or DnsResponseException => new(AcmeFailureKind.Unavailable, s_unavailable, $"DNS could not be queried: {exception.Message}", OurDnsSide: true),
        _ => null,
    };

    private static AcmeFailure ClassifyProblem(AcmeProblemException exception)
    {
        var problem = exception.Problem;
        switch (exception.ProblemType)
        {
            case AcmeErrorTypes.RateLimited:
                return AcmeRateLimitClassifier.Classify(problem) == AcmeRateLimitScope.Identifier
                    ? new(AcmeFailureKind.NameRateLimited, exception.RetryAfter, $"The CA's rate limit for this name was reached: {problem.Detail}")
                    : new(AcmeFailureKind.DeploymentRateLimited, exception.RetryAfter, $"The CA's rate limit was reached: {problem.Detail}");
            case AcmeErrorTypes.BadNonce:
                return new(AcmeFailureKind.Unavailable, TimeSpan.FromSeconds(5), $"The CA kept rejecting nonces: {exception.Message}");
            case AcmeErrorTypes.ServerInternal:
                return new(AcmeFailureKind.Unavailable, exception.RetryAfter ?? s_unavailable, $"The CA failed: {problem}");
            default:
                return (int)exception.StatusCode >= 500
                    ? new(AcmeFailureKind.Unavailable, exception.RetryAfter ?? s_unavailable, $"The CA failed: {problem}")
                    : new(AcmeFailureKind.Refused, null, $"The CA refused: {problem}");
        }
    }
}
