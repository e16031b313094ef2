using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// <c>GET /api/health</c>: runs the registered health checks; <c>{"status":"Healthy","checks":{...}}</c>.
/// Anyone sees the status of each check; only a caller with an admin API key sees their descriptions
/// (CA names, account URLs, error messages), which tell an attacker about the deployment.
/// </summary>
internal static class HealthEndpoint
{
    public static async Task<JsonHttpResult<HealthResponse>> CheckAsync(HttpContext context, HealthCheckService health, AdminApiKeyAuthenticator authenticator)
    {
        var report = await health.CheckHealthAsync(context.RequestAborted).ConfigureAwait(false);
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

    /// <summary><c>GET /api/health/live</c>: the process answers; touches no database and no CA.</summary>
    public static JsonHttpResult<HealthResponse> Live(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Json(new HealthResponse("Healthy", new Dictionary<string, HealthEntry>(), 0), ProvisioningJsonContext.Default.HealthResponse);
    }

    /// <summary>
    /// <c>GET /api/health/ready</c>: the checks, and 503 while the host has not finished starting or has
    /// begun stopping, so a load balancer stops sending work before in-flight requests end.
    /// </summary>
    public static async Task<JsonHttpResult<HealthResponse>> ReadyAsync(HttpContext context, HealthCheckService health, AdminApiKeyAuthenticator authenticator, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested)
        {
            context.Response.Headers.CacheControl = "no-store";
            var state = lifetime.ApplicationStopping.IsCancellationRequested ? "stopping" : "starting";
            return TypedResults.Json(
                new HealthResponse("Unhealthy", new Dictionary<string, HealthEntry> { ["host"] = new("Unhealthy", state) }, 0),
                ProvisioningJsonContext.Default.HealthResponse,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return await CheckAsync(context, health, authenticator).ConfigureAwait(false);
    }

    private static bool IsAdmin(HttpContext context, AdminApiKeyAuthenticator authenticator)
        => AdminAuthentication.BearerToken(context.Request) is { } token
            && authenticator.Authenticate(token, context.Connection.RemoteIpAddress).Succeeded;

    private static string? Describe(HealthReportEntry entry)
        => entry.Exception is { } ex ? $"{entry.Description} ({ex.GetType().Name}: {ex.Message})" : entry.Description;
}
