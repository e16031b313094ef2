using Microsoft.AspNetCore.Http;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// Admits admin calls carrying <c>Authorization: Bearer &lt;key&gt;</c> with a configured key, checked
/// (and failures throttled) by <see cref="AdminApiKeyAuthenticator"/>. The actor recorded in audit
/// events is a short digest of the key.
/// </summary>
internal sealed class AdminApiKeyFilter(AdminApiKeyAuthenticator authenticator) : IEndpointFilter
{
    internal const string ActorItem = "Sndctl.Provisioning.AdminActor";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.Items.ContainsKey(ActorItem))
        {
            // Already admitted by this filter on an outer group (a filter applied twice checks once).
            return await next(context).ConfigureAwait(false);
        }

        var check = authenticator.Authenticate(BearerToken(http.Request), http.Connection.RemoteIpAddress);
        if (!check.Succeeded)
        {
            if (check.RetryAfter is { } wait)
            {
                return Problems.TooManyRequests(http, wait);
            }

            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Unauthorized("Send an admin API key as 'Authorization: Bearer <key>'.");
        }

        // The key is right; is it allowed here? An endpoint names its scope, else a read is Read and a change is Admin.
        IReadOnlyList<AdminScope> required = http.GetEndpoint()?.Metadata.GetMetadata<AdminScopeMetadata>()?.Scopes
            ?? [HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) ? AdminScope.Read : AdminScope.Admin];
        if (!required.Any(check.Allows))
        {
            return Problems.Forbidden("admin-scope", $"This key's scopes ({string.Join(", ", check.Scopes.Select(ScopeName))}) do not include {string.Join(" or ", required.Select(ScopeName))}, which this call needs.");
        }

        http.Items[ActorItem] = check.Actor;
        return await next(context).ConfigureAwait(false);
    }

    /// <summary>A scope as configuration and messages write it.</summary>
    public static string ScopeName(AdminScope scope) => scope.ToString().ToLowerInvariant();

    public static string ActorOf(HttpContext context) => context.Items[ActorItem] as string ?? "admin";

    /// <summary>The token of a single <c>Authorization: Bearer</c> header, or null.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value["Bearer ".Length..].Trim();
        return token.Length is 0 or > 1024 ? null : token;
    }
}
