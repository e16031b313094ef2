using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>The problem+json answers of the device and admin APIs.</summary>
internal static class Problems
{
    private const string TypeBase = "https://sndctl.dev/problems/";

    public static ProblemHttpResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, "invalid-request", "The request is invalid.", detail);

    public static ProblemHttpResult Unauthorized(string detail) => Create(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication failed.", detail);

    public static ProblemHttpResult Forbidden(string type, string detail) => Create(StatusCodes.Status403Forbidden, type, "Forbidden.", detail);

    public static ProblemHttpResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "not-found", "Not found.", detail);

    public static ProblemHttpResult Conflict(string type, string detail) => Create(StatusCodes.Status409Conflict, type, "Conflict.", detail);

    public static ProblemHttpResult PayloadTooLarge(long limit) => Create(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "The request body is too large.", $"The body may be at most {limit} bytes.");

    public static ProblemHttpResult UnsupportedMediaType() => Create(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type.", "Send the body as application/json.");

    public static ProblemHttpResult TooManyRequests(HttpContext context, TimeSpan retryAfter) => WithRetryAfter(context, retryAfter,
        Create(StatusCodes.Status429TooManyRequests, "too-many-failures", "Too many failed attempts.", $"Too many failed authentications; try again in {Seconds(retryAfter)} s."));

    public static ProblemHttpResult DeviceIssuanceLimit(HttpContext context, TimeSpan retryAfter, string detail) => WithRetryAfter(context, retryAfter,
        Create(StatusCodes.Status429TooManyRequests, "device-issuance-limit", "Too many new certificates for this device.", detail));

    public static ProblemHttpResult AddressChangeLimit(HttpContext context, TimeSpan retryAfter, string detail) => WithRetryAfter(context, retryAfter,
        Create(StatusCodes.Status429TooManyRequests, "address-change-limit", "Too many address changes for this device.", detail));

    public static ProblemHttpResult Unavailable(HttpContext context, TimeSpan retryAfter, string detail) => WithRetryAfter(context, retryAfter,
        Create(StatusCodes.Status503ServiceUnavailable, "issuer-unavailable", "Certificate issuance is unavailable.", detail));

    public static ProblemHttpResult CsrSubmissionLimited(HttpContext context, CsrSubmissionLimitedException limited) => WithRetryAfter(context, limited.RetryAfter, limited.TooManyPending
        ? Create(StatusCodes.Status429TooManyRequests, "too-many-pending", "Too many pending requests.", limited.Message)
        : Create(StatusCodes.Status429TooManyRequests, "too-many-requests", "Too many requests.", limited.Message));

    public static ProblemHttpResult CaUnavailable(string detail) => Create(StatusCodes.Status503ServiceUnavailable, "ca-unavailable", "The private CA cannot sign now.", detail);

    public static ProblemHttpResult IssuanceFailed(string detail) => Create(StatusCodes.Status502BadGateway, "issuance-failed", "The certificate authority refused to issue.", detail);

    public static ProblemHttpResult Create(int status, string type, string title, string detail)
        => TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + type);

    public static void SetRetryAfter(HttpContext context, TimeSpan retryAfter)
        => context.Response.Headers.RetryAfter = Seconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ProblemHttpResult WithRetryAfter(HttpContext context, TimeSpan retryAfter, ProblemHttpResult result)
    {
        SetRetryAfter(context, retryAfter);
        if (result.StatusCode == StatusCodes.Status429TooManyRequests && result.ProblemDetails.Type is { } type)
        {
            context.RequestServices.GetService<HttpMetrics>()?.Throttled(type[(type.LastIndexOf('/') + 1)..]);
        }

        return result;
    }

    private static long Seconds(TimeSpan value) => Math.Max(1, (long)Math.Ceiling(value.TotalSeconds));
}
