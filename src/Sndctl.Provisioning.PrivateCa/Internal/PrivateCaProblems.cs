using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>problem+json answers of the private CA endpoints (same type URIs as the device API).</summary>
internal static class PrivateCaProblems
{
    public const string TypeBase = "https://sndctl.dev/problems/";

    public static ProblemHttpResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, "invalid-request", "The request is invalid.", detail);

    public static ProblemHttpResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "not-found", "Not found.", detail);

    public static ProblemHttpResult Conflict(string detail) => Create(StatusCodes.Status409Conflict, "conflict", "Conflict.", detail);

    public static ProblemHttpResult PayloadTooLarge(long limit) => Create(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "The request body is too large.", $"The body may be at most {limit} bytes.");

    public static ProblemHttpResult UnsupportedMediaType() => Create(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type.", "Send the body as application/json.");

    public static ProblemHttpResult TooManyPending(string detail) => Create(StatusCodes.Status429TooManyRequests, "too-many-pending", "Too many pending requests.", detail);

    public static ProblemHttpResult Unavailable(string detail) => Create(StatusCodes.Status503ServiceUnavailable, "ca-unavailable", "The private CA cannot sign now.", detail);

    private static ProblemHttpResult Create(int status, string type, string title, string detail)
        => TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + type);
}
