using System.Net;
using System.Net.Sockets;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>One classifier decides what any failed step means: keyed on the ACME problem type, then on the transport.</summary>
public sealed class AcmeFailureClassifierTests
{
    private const string IdentifierLimit = "too many certificates (5) already issued for this exact set of identifiers: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers";
    private const string DomainLimit = "too many certificates (50) already issued for \"example.com\": see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain";

    [Theory]
    [InlineData("rateLimited", 429, IdentifierLimit, "NameRateLimited")]
    [InlineData("rateLimited", 429, DomainLimit, "DeploymentRateLimited")]
    [InlineData("accountDoesNotExist", 400, "no such account", "AccountGone")]
    [InlineData("unauthorized", 403, "account is deactivated", "Refused")] // by type: the client checks the account (AcmeAccountInvalidException)
    [InlineData("unauthorized", 403, "the CAA record forbids issuance", "Refused")]
    [InlineData("badNonce", 400, "JWS has an invalid anti-replay nonce", "Unavailable")]
    [InlineData("serverInternal", 500, "database down", "Unavailable")]
    [InlineData("malformed", 503, "maintenance", "Unavailable")] // any 5xx is the CA's trouble
    [InlineData("badCSR", 400, "key too small", "Refused")]
    [InlineData("rejectedIdentifier", 400, "name is on a block list", "Refused")]
    public void A_problem_is_classified_by_its_type(string type, int status, string detail, string expected)
    {
        var exception = AcmeProblemException.Create(new AcmeProblem { Type = AcmeErrorTypes.Prefix + type, Detail = detail }, (HttpStatusCode)status, new Uri("https://ca.test/x"), null);

        var failure = AcmeFailureClassifier.Classify(exception);

        Assert.NotNull(failure);
        Assert.Equal(expected, failure.Kind.ToString());
    }

    [Fact]
    public void An_account_the_CA_no_longer_accepts_is_gone_whatever_the_problem_says()
    {
        var invalid = new AcmeAccountInvalidException(new AcmeProblem { Type = AcmeErrorTypes.Unauthorized, Detail = "nope" }, HttpStatusCode.Forbidden, null, null);
        Assert.Equal(AcmeFailureKind.AccountGone, AcmeFailureClassifier.Classify(invalid)!.Kind);
    }

    [Fact]
    public void A_rate_limit_keeps_the_CAs_retry_after_and_a_5xx_falls_back_to_a_minute()
    {
        var limited = AcmeProblemException.Create(new AcmeProblem { Type = AcmeErrorTypes.RateLimited, Detail = DomainLimit }, HttpStatusCode.TooManyRequests, null, TimeSpan.FromHours(3));
        var failed = AcmeProblemException.Create(new AcmeProblem { Type = AcmeErrorTypes.ServerInternal }, HttpStatusCode.InternalServerError, null, null);

        Assert.Equal(TimeSpan.FromHours(3), AcmeFailureClassifier.Classify(limited)!.RetryAfter);
        Assert.Equal(TimeSpan.FromMinutes(1), AcmeFailureClassifier.Classify(failed)!.RetryAfter);
        Assert.Null(AcmeFailureClassifier.Classify(AcmeProblemException.Create(new AcmeProblem { Type = AcmeErrorTypes.BadCsr }, HttpStatusCode.BadRequest, null, null))!.RetryAfter);
    }

    [Fact]
    public void Transport_and_DNS_failures_are_temporary_and_validation_failures_are_refusals()
    {
        Assert.Equal(AcmeFailureKind.Unavailable, AcmeFailureClassifier.Classify(new HttpRequestException("connection refused"))!.Kind);
        Assert.Equal(AcmeFailureKind.Unavailable, AcmeFailureClassifier.Classify(new TimeoutException())!.Kind);
        Assert.Equal(AcmeFailureKind.Unavailable, AcmeFailureClassifier.Classify(new SocketException())!.Kind);
        Assert.Equal(AcmeFailureKind.Unavailable, AcmeFailureClassifier.Classify(new AcmeProtocolException("no Location header"))!.Kind);
        Assert.Equal(AcmeFailureKind.Unavailable, AcmeFailureClassifier.Classify(new DnsPropagationException("ns2 never answered"))!.Kind);
        Assert.Equal(AcmeFailureKind.Refused, AcmeFailureClassifier.Classify(new AcmeValidationException("TXT record not found", null))!.Kind);
    }

    [Fact]
    public void What_is_not_an_ACME_HTTP_or_DNS_failure_is_left_alone()
    {
        Assert.Null(AcmeFailureClassifier.Classify(new InvalidOperationException("a bug")));
        Assert.Null(AcmeFailureClassifier.Classify(new OperationCanceledException()));
    }
}
