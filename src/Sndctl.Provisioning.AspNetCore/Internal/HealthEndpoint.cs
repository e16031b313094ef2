using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>Writes a health report as <c>{"status":"Healthy","checks":{...}}</c>.</summary>
internal static class HealthEndpoint
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var response = new HealthResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(e.Value.Status.ToString(), e.Value.Description)),
            report.TotalDuration.TotalMilliseconds);
        return JsonSerializer.SerializeAsync(context.Response.Body, response, ProvisioningJsonContext.Default.HealthResponse, context.RequestAborted);
    }
}
