using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary><c>GET /api/health</c>: runs the registered health checks; <c>{"status":"Healthy","checks":{...}}</c>.</summary>
internal static class HealthEndpoint
{
    public static async Task<IResult> CheckAsync(HttpContext context, HealthCheckService health)
    {
        var report = await health.CheckHealthAsync(context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        var response = new HealthResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(e.Value.Status.ToString(), e.Value.Description)),
            report.TotalDuration.TotalMilliseconds);
        return TypedResults.Json(
            response,
            ProvisioningJsonContext.Default.HealthResponse,
            statusCode: report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }
}
