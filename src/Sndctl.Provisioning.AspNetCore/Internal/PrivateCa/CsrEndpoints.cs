using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal.PrivateCa;

/// <summary>
/// The private CA over HTTP: the CSR API (<c>/api/v1/csr</c>, compatible with the SMSGate CA client),
/// the root and CRL files, and the CSR admin endpoints. Each handler reads its request, calls
/// <see cref="ICsrService"/> or <see cref="IPrivateCaFiles"/>, and maps the outcome to an answer.
/// </summary>
internal static class CsrEndpoints
{
    public const string PemContentType = "application/x-pem-file";
    public const string CrlContentType = "application/pkix-crl";
    public const long MaxBodyBytes = 64 * 1024;

    public static async Task<Results<JsonHttpResult<CsrResponse>, ProblemHttpResult>> SubmitAsync(HttpContext context, ICsrService service)
    {
        if (!context.Request.HasJsonContentType())
        {
            return Problems.UnsupportedMediaType();
        }

        var (body, problem) = await JsonBody.ReadAsync(context, CsrJsonContext.Default.CsrSubmitRequest, MaxBodyBytes).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrEmpty(body!.Content))
        {
            return Problems.BadRequest("content is missing: put the PEM CSR (-----BEGIN CERTIFICATE REQUEST-----...) in it. The body is {\"content\": \"<PEM CSR>\", \"type\": \"webhook\" | \"private_server\", \"metadata\": {\"key\": \"value\"}}.");
        }

        if (!CsrNames.TryParseType(body.Type, out var type))
        {
            return Problems.BadRequest($"type must be \"webhook\" or \"private_server\", not \"{body.Type}\".");
        }

        try
        {
            var submission = new CsrSubmission(body.Content, type)
            {
                Metadata = body.Metadata ?? [],
                ClientAddress = context.Connection.RemoteIpAddress,
            };
            var request = await service.SubmitAsync(submission, context.RequestAborted).ConfigureAwait(false);
            return TypedResults.Json(CsrResponse.From(request), CsrJsonContext.Default.CsrResponse, statusCode: StatusCodes.Status202Accepted);
        }
        catch (CsrRejectedException ex)
        {
            return Problems.BadRequest(ex.Message);
        }
        catch (CsrSubmissionLimitedException ex)
        {
            return Problems.CsrSubmissionLimited(context, ex);
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            return Problems.CaUnavailable(ex.Message);
        }
    }

    public static async Task<Results<JsonHttpResult<CsrResponse>, ProblemHttpResult>> GetAsync(string requestId, ICsrService service, CancellationToken cancellationToken)
        => await service.FindAsync(requestId, cancellationToken).ConfigureAwait(false) is { } request
            ? TypedResults.Json(CsrResponse.From(request), CsrJsonContext.Default.CsrResponse)
            : NoSuchRequest(requestId);

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> RootAsync(IPrivateCaFiles files, HttpContext context)
    {
        try
        {
            var pem = await files.GetRootPemAsync(context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return TypedResults.Text(pem, PemContentType);
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            return Problems.CaUnavailable(ex.Message);
        }
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> CrlAsync(string file, IPrivateCaFiles files, HttpContext context)
    {
        try
        {
            var der = file.EndsWith(".crl", StringComparison.Ordinal) ? await files.GetCrlAsync(file[..^4], context.RequestAborted).ConfigureAwait(false) : null;
            if (der is null)
            {
                return Problems.NotFound("CRLs are at " + string.Join(", ", files.CrlNames.Select(n => $"/api/v1/ca/crl/{n}.crl")) + ".");
            }

            context.Response.Headers.CacheControl = "public, max-age=60";
            return TypedResults.File(der, CrlContentType);
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            return Problems.CaUnavailable(ex.Message);
        }
    }

    public static async Task<Results<JsonHttpResult<PageResponse<CsrAdminItem>>, ProblemHttpResult>> ListAsync(HttpContext context, ICsrService service)
    {
        CsrRequestStatus? wanted = null;
        if (context.Request.Query["status"].ToString() is { Length: > 0 } status)
        {
            if (!Enum.TryParse<CsrRequestStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
            {
                return Problems.BadRequest("status must be pending, approved or denied.");
            }

            wanted = parsed;
        }

        if (!Paging.TryRead(context, out var page, out var pageSize, out var problem))
        {
            return problem!;
        }

        var result = await service.ListAsync(wanted, page, pageSize, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(
            new PageResponse<CsrAdminItem>([.. result.Items.Select(CsrAdminItem.From)], result.Total, result.PageNumber, result.PageSize),
            CsrJsonContext.Default.PageResponseCsrAdminItem);
    }

    public static Task<Results<JsonHttpResult<CsrAdminItem>, ProblemHttpResult>> ApproveAsync(string requestId, ICsrService service, HttpContext context)
        => DecideAsync(requestId, () => service.ApproveAsync(requestId, AdminAuthentication.ActorOf(context), context.RequestAborted));

    public static async Task<Results<JsonHttpResult<CsrAdminItem>, ProblemHttpResult>> DenyAsync(string requestId, ICsrService service, HttpContext context, IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, CsrJsonContext.Default.CsrDenyRequest, options.CurrentValue.MaxAdminRequestBodySize).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.Reason) || body.Reason.Length > 512)
        {
            return Problems.BadRequest("Give the client a reason to deny: {\"reason\": \"...\"} (at most 512 characters).");
        }

        return await DecideAsync(requestId, () => service.DenyAsync(requestId, body.Reason.Trim(), AdminAuthentication.ActorOf(context), context.RequestAborted)).ConfigureAwait(false);
    }

    public static Task<Results<JsonHttpResult<CsrAdminItem>, ProblemHttpResult>> RevokeAsync(string requestId, ICsrService service, HttpContext context)
        => DecideAsync(requestId, () => service.RevokeAsync(requestId, AdminAuthentication.ActorOf(context), context.RequestAborted));

    private static async Task<Results<JsonHttpResult<CsrAdminItem>, ProblemHttpResult>> DecideAsync(string requestId, Func<Task<CsrRequest?>> decide)
    {
        try
        {
            return await decide().ConfigureAwait(false) is { } request
                ? TypedResults.Json(CsrAdminItem.From(request), CsrJsonContext.Default.CsrAdminItem)
                : NoSuchRequest(requestId);
        }
        catch (CsrStateConflictException ex)
        {
            return Problems.Conflict("conflict", ex.Message);
        }
        catch (ConcurrencyConflictException)
        {
            return Problems.Conflict("conflict", $"{requestId} was decided by someone else at the same time; read it again.");
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            return Problems.CaUnavailable(ex.Message);
        }
    }

    private static ProblemHttpResult NoSuchRequest(string requestId)
        => Problems.NotFound($"No CSR request '{(requestId.Length > 64 ? requestId[..64] + "…" : requestId)}'.");
}
