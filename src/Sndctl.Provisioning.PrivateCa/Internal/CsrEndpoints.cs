using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>The CSR API (<c>/api/v1/csr</c>, compatible with the SMSGate CA client) and its admin endpoints.</summary>
internal static class CsrEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxMetadataEntries = 32;
    public const string CrlContentType = "application/pkix-crl";

    public static async Task<IResult> SubmitAsync(HttpContext context, PrivateCsrService service, CancellationToken cancellationToken)
    {
        if (!context.Request.HasJsonContentType())
        {
            return PrivateCaProblems.UnsupportedMediaType();
        }

        var body = await ReadBodyAsync(context, cancellationToken);
        if (body is null)
        {
            return PrivateCaProblems.PayloadTooLarge(MaxBodyBytes);
        }

        if (!TryParse(body, out var content, out var type, out var metadata, out var error))
        {
            return PrivateCaProblems.BadRequest(error);
        }

        var check = CsrPolicy.Check(content);
        if (check.MalformedReason is { } malformed)
        {
            return PrivateCaProblems.BadRequest(malformed);
        }

        try
        {
            var request = await service.SubmitAsync(content, check, type, metadata, context.Connection.RemoteIpAddress, cancellationToken);
            return TypedResults.Json(CsrResponse.From(request), CsrJsonContext.Default.CsrResponse, statusCode: StatusCodes.Status202Accepted);
        }
        catch (TooManyPendingException ex)
        {
            context.Response.Headers.RetryAfter = "60";
            return PrivateCaProblems.TooManyPending(ex.Message);
        }
        catch (PrivateCaUnavailableException ex)
        {
            return PrivateCaProblems.Unavailable(ex.Message);
        }
    }

    public static async Task<IResult> GetAsync(string requestId, PrivateCsrService service, CancellationToken cancellationToken)
    {
        var request = requestId.Length <= 64 ? await service.FindAsync(requestId, cancellationToken) : null;
        return request is null
            ? PrivateCaProblems.NotFound($"No CSR request '{requestId}'.")
            : TypedResults.Json(CsrResponse.From(request), CsrJsonContext.Default.CsrResponse);
    }

    public static async Task<IResult> CrlAsync(string file, CsrRevocationLists crls, HttpContext context, CancellationToken cancellationToken)
    {
        var devices = file == CsrRevocationLists.DevicesFile + ".crl";
        var type = CsrCertificateType.Webhook;
        if (!devices && (!file.EndsWith(".crl", StringComparison.Ordinal) || !CsrTypes.TryParse(file[..^4], out type)))
        {
            return PrivateCaProblems.NotFound("CRLs are at /api/v1/ca/crl/devices.crl, /api/v1/ca/crl/webhook.crl and /api/v1/ca/crl/private_server.crl.");
        }

        try
        {
            var der = devices ? await crls.GetDevicesAsync(cancellationToken) : await crls.GetAsync(type, cancellationToken);
            context.Response.Headers.CacheControl = "public, max-age=60";
            return TypedResults.File(der, CrlContentType);
        }
        catch (PrivateCaUnavailableException ex)
        {
            return PrivateCaProblems.Unavailable(ex.Message);
        }
    }

    public static async Task<IResult> ListAsync(string? status, int? page, int? pageSize, PrivateCsrService service, CancellationToken cancellationToken)
    {
        CsrRequestStatus? wanted = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!Enum.TryParse<CsrRequestStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
            {
                return PrivateCaProblems.BadRequest("status must be pending, approved or denied.");
            }

            wanted = parsed;
        }

        if (page is < 1 || pageSize is < 1 or > 500)
        {
            return PrivateCaProblems.BadRequest("page must be 1 or more and pageSize 1 to 500.");
        }

        var result = await service.ListAsync(wanted, page ?? 1, pageSize ?? 50, cancellationToken);
        return TypedResults.Json(
            new CsrPage([.. result.Items.Select(CsrAdminItem.From)], result.Total, result.PageNumber, result.PageSize),
            CsrJsonContext.Default.CsrPage);
    }

    public static Task<IResult> ApproveAsync(string requestId, PrivateCsrService service, HttpContext context, CancellationToken cancellationToken)
        => DecideAsync(requestId, () => service.ApproveAsync(requestId, Actor(context), cancellationToken));

    public static async Task<IResult> DenyAsync(string requestId, PrivateCsrService service, HttpContext context, CancellationToken cancellationToken)
    {
        string? reason = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = await ReadBodyAsync(context, cancellationToken);
            try
            {
                using var document = JsonDocument.Parse(body ?? []);
                reason = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            }
            catch (JsonException)
            {
                return PrivateCaProblems.BadRequest("The body must be {\"reason\": \"...\"}.");
            }
        }

        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 512)
        {
            return PrivateCaProblems.BadRequest("Give the client a reason to deny: {\"reason\": \"...\"} (at most 512 characters).");
        }

        return await DecideAsync(requestId, () => service.DenyAsync(requestId, reason.Trim(), Actor(context), cancellationToken));
    }

    public static Task<IResult> RevokeAsync(string requestId, PrivateCsrService service, HttpContext context, CancellationToken cancellationToken)
        => DecideAsync(requestId, () => service.RevokeAsync(requestId, Actor(context), cancellationToken));

    private static async Task<IResult> DecideAsync(string requestId, Func<Task<CsrRequest?>> decide)
    {
        try
        {
            var request = await decide();
            return request is null
                ? PrivateCaProblems.NotFound($"No CSR request '{requestId}'.")
                : TypedResults.Json(CsrAdminItem.From(request), CsrJsonContext.Default.CsrAdminItem);
        }
        catch (InvalidOperationException ex)
        {
            return PrivateCaProblems.Conflict(ex.Message);
        }
        catch (ConcurrencyConflictException)
        {
            return PrivateCaProblems.Conflict($"{requestId} was decided by someone else at the same time; read it again.");
        }
        catch (PrivateCaUnavailableException ex)
        {
            return PrivateCaProblems.Unavailable(ex.Message);
        }
    }

    private static string Actor(HttpContext context) => context.Items[AuditActors.HttpContextItemKey] as string ?? "admin";

    /// <summary>The body, or null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        try
        {
            while ((read = await context.Request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }

    private static bool TryParse(byte[] body, out string content, out CsrCertificateType type, out Dictionary<string, string> metadata, out string error)
    {
        content = string.Empty;
        type = CsrCertificateType.Webhook;
        metadata = [];
        const string Shape = "The body must be a JSON object {\"content\": \"<PEM CSR>\", \"type\": \"webhook\" | \"private_server\", \"metadata\": {\"key\": \"value\"}}.";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            error = "The body is not valid JSON. " + Shape;
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = Shape;
                return false;
            }

            if (!root.TryGetProperty("content", out var contentElement) || contentElement.ValueKind != JsonValueKind.String || contentElement.GetString() is not { Length: > 0 } text)
            {
                error = "content is missing: put the PEM CSR (-----BEGIN CERTIFICATE REQUEST-----...) in it. " + Shape;
                return false;
            }

            if (text.Length > CsrPolicy.MaxContentLength)
            {
                error = $"content is {text.Length} characters; at most {CsrPolicy.MaxContentLength} are accepted.";
                return false;
            }

            content = text;
            if (root.TryGetProperty("type", out var typeElement) && typeElement.ValueKind != JsonValueKind.Null)
            {
                if (typeElement.ValueKind != JsonValueKind.String || !CsrTypes.TryParse(typeElement.GetString(), out type))
                {
                    error = $"type must be \"webhook\" or \"private_server\", not {typeElement.GetRawText()}.";
                    return false;
                }
            }

            if (root.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind != JsonValueKind.Null)
            {
                if (metadataElement.ValueKind != JsonValueKind.Object)
                {
                    error = "metadata must be an object of string values.";
                    return false;
                }

                foreach (var entry in metadataElement.EnumerateObject())
                {
                    if (entry.Value.ValueKind != JsonValueKind.String || entry.Name.Length is 0 or > 64 || entry.Value.GetString()!.Length > 256)
                    {
                        error = $"metadata '{Truncate(entry.Name)}': keys are 1 to 64 characters, values strings of at most 256.";
                        return false;
                    }

                    metadata[entry.Name] = entry.Value.GetString()!;
                }

                if (metadata.Count > MaxMetadataEntries)
                {
                    error = $"metadata has {metadata.Count} entries; at most {MaxMetadataEntries} are accepted.";
                    return false;
                }

                // Stored as JSON, where escaping can make a value six times longer: refuse what would not
                // fit the column here, before anything is signed, rather than fail in the database.
                if (JsonSerializer.Serialize(metadata).Length > CsrRequest.MaxMetadataJsonLength)
                {
                    error = $"metadata is too large once stored: at most {CsrRequest.MaxMetadataJsonLength} characters of JSON (characters such as quotes and non-ASCII letters count six times).";
                    return false;
                }
            }
        }

        error = string.Empty;
        return true;

        static string Truncate(string value) => value.Length > 64 ? value[..64] + "…" : value;
    }
}

/// <summary>The SMSGate CA client's response shape.</summary>
internal sealed record CsrResponse(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("certificate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Certificate)
{
    public static CsrResponse From(CsrRequest request) => new(
        request.Id,
        StatusName(request.Status),
        request.Message ?? string.Empty,
        request.Status == CsrRequestStatus.Approved ? request.CertificatePem : null);

    public static string StatusName(CsrRequestStatus status) => status switch
    {
        CsrRequestStatus.Approved => "approved",
        CsrRequestStatus.Denied => "denied",
        _ => "pending",
    };
}

/// <summary>A CSR request as admins see it.</summary>
internal sealed record CsrAdminItem(
    string RequestId,
    string Type,
    string Status,
    string? Message,
    string? IpAddress,
    string? ClientAddress,
    IDictionary<string, string> Metadata,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? DecidedAt,
    string? DecidedBy,
    string? SerialNumber,
    DateTimeOffset? NotAfter,
    DateTimeOffset? RevokedAt)
{
    public static CsrAdminItem From(CsrRequest r) => new(
        r.Id, CsrTypes.Name(r.Type), CsrResponse.StatusName(r.Status), r.Message, r.IpAddress, r.ClientAddress, r.Metadata,
        r.SubmittedAt, r.DecidedAt, r.DecidedBy, r.SerialNumber, r.NotAfter, r.RevokedAt);
}

internal sealed record CsrPage(IReadOnlyList<CsrAdminItem> Items, int Total, int Page, int PageSize);

[JsonSerializable(typeof(CsrResponse))]
[JsonSerializable(typeof(CsrAdminItem))]
[JsonSerializable(typeof(CsrPage))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class CsrJsonContext : JsonSerializerContext;
