using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>Handlers of the admin API under <c>/api/admin</c>; their result types are their OpenAPI description.</summary>
internal static class AdminEndpoints
{
    public static async Task<Results<JsonHttpResult<CreatedDeviceResponse>, ProblemHttpResult>> CreateDeviceAsync(HttpContext context, IDeviceAdminService admin, IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ProvisioningJsonContext.Default.CreateDeviceRequest, options.CurrentValue.MaxAdminRequestBodySize).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            var created = await admin.CreateDeviceAsync(body!.DeviceId, body.Labels, AdminAuthentication.ActorOf(context), context.RequestAborted).ConfigureAwait(false);
            return TypedResults.Json(
                new CreatedDeviceResponse(created.DeviceId, created.Secret, created.Hostname, StatusNames.Of(created.Status), created.CreatedAt),
                ProvisioningJsonContext.Default.CreatedDeviceResponse,
                statusCode: StatusCodes.Status201Created);
        }
        catch (DeviceValidationException ex)
        {
            return Problems.BadRequest(ex.Message);
        }
        catch (DuplicateDeviceException)
        {
            return Problems.Conflict("duplicate-device", $"A device with ID '{body!.DeviceId}' exists already.");
        }
    }

    public static async Task<Results<JsonHttpResult<BatchResponse>, CsvResult, ProblemHttpResult>> CreateBatchAsync(HttpContext context, IDeviceAdminService admin, IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ProvisioningJsonContext.Default.CreateBatchRequest, options.CurrentValue.MaxAdminRequestBodySize).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Count is not { } count)
        {
            return Problems.BadRequest("count is required: how many devices to create.");
        }

        IReadOnlyList<CreatedDevice> created;
        try
        {
            created = await admin.CreateDevicesAsync(count, body.Labels, AdminAuthentication.ActorOf(context), context.RequestAborted).ConfigureAwait(false);
        }
        catch (DeviceValidationException ex)
        {
            return Problems.BadRequest(ex.Message);
        }

        if (WantsCsv(context.Request))
        {
            return new CsvResult(created);
        }

        return TypedResults.Json(
            new BatchResponse(created.Select(d => new BatchDevice(d.DeviceId, d.Secret, d.Hostname)).ToList()),
            ProvisioningJsonContext.Default.BatchResponse,
            statusCode: StatusCodes.Status201Created);
    }

    public static async Task<Results<JsonHttpResult<PageResponse<DeviceListItem>>, ProblemHttpResult>> ListDevicesAsync(HttpContext context, IDeviceAdminService admin)
    {
        var query = context.Request.Query;
        DeviceStatus? status = null;
        if (query["status"] is { Count: > 0 } statusValues && !string.IsNullOrEmpty(statusValues[0]))
        {
            if (!StatusNames.TryParse(statusValues[0], out var parsed))
            {
                return Problems.BadRequest("status must be pending, active or disabled.");
            }

            status = parsed;
        }

        if (!Paging.TryRead(context, out var page, out var pageSize, out var problem))
        {
            return problem!;
        }

        var search = query["search"].ToString();
        if (search.Length > 253)
        {
            return Problems.BadRequest("search may be at most 253 characters.");
        }

        var sortText = query["sort"].ToString();
        var descending = sortText.Length == 0 || sortText.StartsWith('-');
        var sortName = sortText.TrimStart('-');
        var sort = DeviceSort.Created;
        if (sortName.Length > 0 && (int.TryParse(sortName, out _) || !Enum.TryParse(sortName, ignoreCase: true, out sort)))
        {
            return Problems.BadRequest("sort must be created, deviceId, status, lastSeen or expiry, with '-' in front for descending (default -created).");
        }

        bool? factorySecret = null;
        if (query["factorySecret"] is { Count: > 0 } factoryValues && !string.IsNullOrEmpty(factoryValues[0]))
        {
            if (!bool.TryParse(factoryValues[0], out var parsed))
            {
                return Problems.BadRequest("factorySecret must be true (devices still holding their factory secret) or false.");
            }

            factorySecret = parsed;
        }

        DeviceNameResolution? resolution = null;
        if (query["resolution"] is { Count: > 0 } resolutionValues && !string.IsNullOrEmpty(resolutionValues[0]))
        {
            if (!ResolutionNames.TryParse(resolutionValues[0], out var parsed))
            {
                return Problems.BadRequest("resolution must be unknown, ok, blocked or other.");
            }

            resolution = parsed;
        }

        var deviceQuery = new DeviceQuery(status, search, page, pageSize, sort, descending) { FactorySecret = factorySecret, NameResolution = resolution };
        var result = await admin.ListDevicesAsync(deviceQuery, context.RequestAborted).ConfigureAwait(false);
        var items = result.Items.Select(s => new DeviceListItem(
            s.Device.DeviceId,
            s.Device.Hostname,
            StatusNames.Of(s.Device.Status),
            s.Device.Labels,
            s.Device.CreatedAt,
            s.Device.RegisteredAt,
            s.Device.LastSeenAt,
            Summary(s.Certificate),
            s.Device.SecretOrigin == DeviceSecretOrigin.Factory,
            ResolutionNames.Of(s.Device.NameResolution))).ToList();
        return TypedResults.Json(new PageResponse<DeviceListItem>(items, result.Total, page, pageSize), ProvisioningJsonContext.Default.PageResponseDeviceListItem);
    }

    public static async Task<Results<JsonHttpResult<DeviceDetailsResponse>, ProblemHttpResult>> GetDeviceAsync(string deviceId, HttpContext context, IDeviceAdminService admin)
    {
        var details = await admin.GetDeviceAsync(deviceId, context.RequestAborted).ConfigureAwait(false);
        if (details is null)
        {
            return DeviceNotFound(deviceId);
        }

        var device = details.Device;
        var current = details.Certificates.FirstOrDefault(c => c.Id == device.CurrentCertificateId);
        return TypedResults.Json(
            new DeviceDetailsResponse(
                device.DeviceId,
                device.Hostname,
                StatusNames.Of(device.Status),
                device.Labels,
                device.CreatedAt,
                device.RegisteredAt,
                device.LastSeenAt,
                [.. device.Addresses.Select(a => a.ToString())],
                Summary(current),
                details.Certificates.Select(c => new CertificateHistoryItem(
                    c.SerialNumber, c.Issuer, c.Thumbprint, c.NotBefore, c.NotAfter, c.RenewAfter, c.IssuedAt, c.RevokedAt, c.Id == device.CurrentCertificateId, c.CertificateAuthority)).ToList(),
                details.Events.Select(ToItem).ToList(),
                device.SecretOrigin == DeviceSecretOrigin.Factory,
                device.SecretChangedAt,
                device.PendingSecretHash is not null,
                ResolutionNames.Of(device.NameResolution),
                device.NameResolutionAt),
            ProvisioningJsonContext.Default.DeviceDetailsResponse);
    }

    public static Task<Results<JsonHttpResult<DeviceStatusResponse>, ProblemHttpResult>> DisableAsync(string deviceId, HttpContext context, IDeviceAdminService admin) => SetEnabledAsync(deviceId, false, context, admin);

    public static Task<Results<JsonHttpResult<DeviceStatusResponse>, ProblemHttpResult>> EnableAsync(string deviceId, HttpContext context, IDeviceAdminService admin) => SetEnabledAsync(deviceId, true, context, admin);

    public static async Task<Results<JsonHttpResult<SecretResponse>, ProblemHttpResult>> RotateSecretAsync(string deviceId, HttpContext context, IDeviceAdminService admin)
    {
        var secret = await admin.RotateSecretAsync(deviceId, AdminAuthentication.ActorOf(context), context.RequestAborted).ConfigureAwait(false);
        return secret is null
            ? DeviceNotFound(deviceId)
            : TypedResults.Json(new SecretResponse(secret), ProvisioningJsonContext.Default.SecretResponse);
    }

    public static async Task<Results<JsonHttpResult<RevokeResponse>, ProblemHttpResult>> RevokeAsync(string deviceId, HttpContext context, IDeviceAdminService admin, IDeviceStore devices, ICertificateStore certificates)
    {
        // Only the current certificate's ID is needed afterwards: one device read, not the whole history.
        var before = await devices.FindAsync(deviceId, context.RequestAborted).ConfigureAwait(false);
        RevokeOutcome outcome;
        try
        {
            outcome = await admin.RevokeCertificateAsync(deviceId, AdminAuthentication.ActorOf(context), context.RequestAborted).ConfigureAwait(false);
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            return Problems.Unavailable(context, ex.RetryAfter ?? TimeSpan.FromSeconds(60), ex.Message);
        }
        catch (CertificateIssuanceException ex)
        {
            return Problems.IssuanceFailed(ex.Message);
        }

        switch (outcome)
        {
            case RevokeOutcome.DeviceNotFound:
                return DeviceNotFound(deviceId);
            case RevokeOutcome.NoCertificate:
                return Problems.Conflict("no-certificate", $"Device '{deviceId}' holds no unrevoked certificate.");
            case RevokeOutcome.IssuerMismatch:
                return Problems.Conflict("issuer-mismatch", "The certificate was issued by an issuer this server no longer uses; revoke it at that CA.");
        }

        var revoked = await certificates.FindAsync(before!.CurrentCertificateId!.Value, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new RevokeResponse(deviceId, revoked!.SerialNumber, revoked.RevokedAt!.Value), ProvisioningJsonContext.Default.RevokeResponse);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string deviceId, HttpContext context, IDeviceAdminService admin)
    {
        try
        {
            // Deleting revokes the device's valid certificates at their CA first: a CA that cannot be
            // reached leaves the device in place (503) rather than a certificate nobody will revoke.
            return await admin.DeleteDeviceAsync(deviceId, AdminAuthentication.ActorOf(context), context.RequestAborted).ConfigureAwait(false)
                ? TypedResults.NoContent()
                : DeviceNotFound(deviceId);
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            return Problems.Unavailable(context, ex.RetryAfter ?? TimeSpan.FromSeconds(60), ex.Message);
        }
        catch (CertificateIssuanceException ex)
        {
            return Problems.IssuanceFailed(ex.Message);
        }
    }

    public static async Task<Results<JsonHttpResult<PageResponse<EventItem>>, ProblemHttpResult>> ListEventsAsync(HttpContext context, IDeviceAdminService admin)
    {
        if (!Paging.TryRead(context, out var page, out var pageSize, out var problem))
        {
            return problem!;
        }

        var deviceId = context.Request.Query["deviceId"].ToString();
        var result = await admin.ListEventsAsync(deviceId.Length == 0 ? null : deviceId, page, pageSize, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new PageResponse<EventItem>(result.Items.Select(ToItem).ToList(), result.Total, page, pageSize), ProvisioningJsonContext.Default.PageResponseEventItem);
    }

    /// <summary>Events reach the export this long after they were written, so one committed late never falls behind a cursor that moved past it.</summary>
    internal static readonly TimeSpan ExportSettling = TimeSpan.FromSeconds(5);

    private static readonly ReadOnlyMemory<byte> s_newLine = "\n"u8.ToArray();

    /// <summary>
    /// <c>GET /api/admin/events/export?after=ID&amp;limit=N</c>: events with an ID above the cursor, oldest first, as
    /// JSON lines (application/x-ndjson); <c>Sndctl-Next-Cursor</c> names the cursor of the next call (a SIEM polls
    /// with it). Bounded: at most 10,000 per call.
    /// </summary>
    public static async Task<IResult> ExportEventsAsync(HttpContext context, IAuditEventStore events, TimeProvider time)
    {
        var query = context.Request.Query;
        long after = 0;
        var limit = 1000;
        if ((query["after"].Count > 0 && (!long.TryParse(query["after"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out after)))
            || (query["limit"].Count > 0 && (!int.TryParse(query["limit"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 10_000)))
        {
            return Problems.BadRequest("'after' must be an event ID (0 or more) and 'limit' a number from 1 to 10000.");
        }

        var items = await events.ListAfterAsync(after, time.GetUtcNow() - ExportSettling, limit, context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers["Sndctl-Next-Cursor"] = (items.Count > 0 ? items[^1].Id : after).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Stream(
            async stream =>
            {
                foreach (var item in items)
                {
                    await JsonSerializer.SerializeAsync(stream, ToItem(item), ProvisioningJsonContext.Default.EventItem).ConfigureAwait(false);
                    await stream.WriteAsync(s_newLine).ConfigureAwait(false);
                }
            },
            "application/x-ndjson");
    }

    public static async Task<JsonHttpResult<StatisticsResponse>> StatisticsAsync(HttpContext context, IDeviceAdminService admin)
    {
        var statistics = await admin.GetStatisticsAsync(context.RequestAborted).ConfigureAwait(false);
        var byStatus = statistics.DevicesByStatus.ToDictionary(p => StatusNames.Of(p.Key), p => p.Value);
        return TypedResults.Json(
            new StatisticsResponse(
                byStatus,
                byStatus.Values.Sum(),
                statistics.ExpiringWithin7Days,
                statistics.ExpiringWithin30Days,
                Enum.GetValues<DeviceNameResolution>().ToDictionary(ResolutionNames.Of, r => statistics.DevicesByNameResolution.GetValueOrDefault(r)),
                statistics.DevicesWithFactorySecret,
                statistics.EarliestCertificateExpiry),
            ProvisioningJsonContext.Default.StatisticsResponse);
    }

    public static async Task<Results<JsonHttpResult<BudgetResponse>, ProblemHttpResult>> AcmeBudgetAsync(HttpContext context, IServiceProvider services)
    {
        if (services.GetService(typeof(ICertificateAuthorityBudget)) is not ICertificateAuthorityBudget budget)
        {
            return Problems.NotFound("The issuer counts no CA budget: budgets are the ACME issuer's (Provisioning:Issuer=Acme).");
        }

        var report = await budget.GetReportAsync(context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(
            new BudgetResponse(
                [.. report.Domains.Select(d => new BudgetDomain(d.RegisteredDomain, d.Limit, d.Used, (long)d.Window.TotalSeconds, d.NextSlotAt))],
                new BudgetQueue(report.QueueDepth, report.QueueDrainsAt),
                new BudgetRenewals(report.RenewalsDueThisWeek)),
            ProvisioningJsonContext.Default.BudgetResponse);
    }

    private static async Task<Results<JsonHttpResult<DeviceStatusResponse>, ProblemHttpResult>> SetEnabledAsync(string deviceId, bool enabled, HttpContext context, IDeviceAdminService admin)
    {
        if (!await admin.SetEnabledAsync(deviceId, enabled, AdminAuthentication.ActorOf(context), context.RequestAborted).ConfigureAwait(false))
        {
            return DeviceNotFound(deviceId);
        }

        var device = await admin.GetDeviceAsync(deviceId, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new DeviceStatusResponse(deviceId, StatusNames.Of(device!.Device.Status)), ProvisioningJsonContext.Default.DeviceStatusResponse);
    }

    /// <summary>
    /// CSV when the client prefers it: <c>text/csv</c> with a quality above zero and at least that of JSON
    /// (<c>Accept: text/csv;q=0, application/json</c> refuses CSV, and gets JSON).
    /// </summary>
    private static bool WantsCsv(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double QualityOf(string mediaType) => accept
            .Where(a => a.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1)
            .DefaultIfEmpty(-1)
            .Max();

        var csv = QualityOf("text/csv");
        return csv > 0 && csv >= QualityOf("application/json");
    }

    private static CertificateSummary? Summary(DeviceCertificate? certificate)
        => certificate is null ? null : new CertificateSummary(certificate.SerialNumber, certificate.NotBefore, certificate.NotAfter, certificate.RenewAfter);

    private static EventItem ToItem(AuditEvent e) => new(e.Id, e.Timestamp, e.DeviceId, e.Actor, e.Type, e.Details);

    private static ProblemHttpResult DeviceNotFound(string deviceId) => Problems.NotFound($"No device '{deviceId}'.");

    /// <summary>
    /// RFC 4180 CSV (CRLF, header row) for the factory line. IDs and secrets are drawn so that no
    /// field reads as a number or a formula in a spreadsheet.
    /// </summary>
    internal sealed class CsvResult(IReadOnlyList<CreatedDevice> devices) : IResult, IEndpointMetadataProvider
    {
        public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
            => builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status201Created, typeof(string), ["text/csv"]));

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var csv = new StringBuilder(devices.Count * 96);
            csv.Append("deviceId,secret,hostname\r\n");
            foreach (var device in devices)
            {
                csv.Append(device.DeviceId).Append(',').Append(device.Secret).Append(',').Append(device.Hostname).Append("\r\n");
            }

            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status201Created;
            response.ContentType = "text/csv; charset=utf-8";
            response.Headers[HeaderNames.ContentDisposition] = $"attachment; filename=\"devices-{httpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow():yyyyMMdd-HHmmss}.csv\"";
            response.Headers.CacheControl = "no-store";
            return response.WriteAsync(csv.ToString(), httpContext.RequestAborted);
        }
    }
}
