using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// <c>GET /api/health</c>: runs the registered health checks; <c>{"status":"Healthy","checks":{...}}</c>.
/// Anyone sees the status of each check; only a caller with an admin API key sees their descriptions
/// (CA names, account URLs, error messages), which tell an attacker about the deployment.
/// </summary>
internal static class HealthEndpoint
{
    public static async Task<IResult> CheckAsync(HttpContext context, HealthCheckService health, AdminApiKeyAuthenticator authenticator)
    {
        var report = await health.CheckHealthAsync(context.RequestAborted);
        var detailed = IsAdmin(context, authenticator);
        context.Response.Headers.CacheControl = "no-store";
        var response = new HealthResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(e.Value.Status.ToString(), detailed ? Describe(e.Value) : null)),
            report.TotalDuration.TotalMilliseconds);
        return TypedResults.Json(
            response,
            ProvisioningJsonContext.Default.HealthResponse,
            statusCode: report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    private static bool IsAdmin(HttpContext context, AdminApiKeyAuthenticator authenticator)
    {
        var header = context.Request.Headers.Authorization;
        return header.Count == 1 && header[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && authenticator.Authenticate(value["Bearer ".Length..].Trim(), context.Connection.RemoteIpAddress).Succeeded;
    }

    private static string? Describe(HealthReportEntry entry)
        => entry.Exception is { } ex ? $"{entry.Description} ({ex.GetType().Name}: {ex.Message})" : entry.Description;
}
