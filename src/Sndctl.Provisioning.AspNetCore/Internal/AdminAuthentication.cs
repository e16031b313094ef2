using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// The admin-key authentication scheme (<see cref="ProvisioningAdminDefaults.AuthenticationScheme"/>): a single
/// <c>Authorization: Bearer</c> header checked by <see cref="AdminApiKeyAuthenticator"/> (constant time, failures of a
/// network throttled, a right key always accepted); the principal is named by the key's audit actor and carries one
/// scope claim per scope. A challenge answers 401 (or 429 with Retry-After for a throttled network), a refusal 403,
/// both as problem+json.
/// </summary>
internal sealed class AdminApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AdminApiKeyAuthenticator authenticator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string RetryAfterItem = "Sndctl.Provisioning.AdminRetryAfter";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // Every call that reaches an admin endpoint is checked, with a key or without: both count as failures when wrong.
        var check = authenticator.Authenticate(AdminAuthentication.BearerToken(Request), Context.Connection.RemoteIpAddress);
        if (!check.Succeeded)
        {
            if (check.RetryAfter is { } wait)
            {
                Context.Items[RetryAfterItem] = wait;
            }

            return Task.FromResult(AuthenticateResult.Fail("No valid admin API key."));
        }

        Context.Items[AdminAuthentication.ActorItem] = check.Actor;
        var identity = new ClaimsIdentity(Scheme.Name, ClaimTypes.Name, ProvisioningAdminDefaults.ScopeClaimType);
        identity.AddClaim(new Claim(ClaimTypes.Name, check.Actor!));
        foreach (var scope in check.Scopes)
        {
            identity.AddClaim(new Claim(ProvisioningAdminDefaults.ScopeClaimType, AdminAuthentication.ScopeName(scope)));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    /// <summary>
    /// In a policy that names several schemes each is asked in turn: one that answered already (a redirect to sign in,
    /// or a body) keeps its answer. An app lists this scheme last, so its problem+json is written after the others set the status.
    /// </summary>
    private bool AnsweredByAnother => Response.HasStarted || Response.StatusCode is >= 300 and < 400;

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (AnsweredByAnother)
        {
            return Task.CompletedTask;
        }

        if (Context.Items[RetryAfterItem] is TimeSpan wait)
        {
            return Problems.TooManyRequests(Context, wait).ExecuteAsync(Context);
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Unauthorized("Send an admin API key as 'Authorization: Bearer <key>'.").ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        if (AnsweredByAnother)
        {
            return;
        }

        var result = await AuthenticateAsync().ConfigureAwait(false);
        var held = result.Principal?.FindAll(ProvisioningAdminDefaults.ScopeClaimType).Select(c => c.Value) ?? [];
        var required = Context.Items[AdminAuthentication.RequiredItem] as IReadOnlyList<AdminScope> ?? AdminAuthentication.Required(Context);
        await Problems.Forbidden("admin-scope", $"This key's scopes ({string.Join(", ", held)}) do not include {string.Join(" or ", required.Select(AdminAuthentication.ScopeName))}, which this call needs.").ExecuteAsync(Context).ConfigureAwait(false);
    }
}

/// <summary>Grants <see cref="AdminScopeRequirement"/> to a principal whose scope claims include the scope needed (or admin).</summary>
internal sealed class AdminScopeAuthorizationHandler : AuthorizationHandler<AdminScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminScopeRequirement requirement)
    {
        var http = context.Resource as HttpContext;
        IReadOnlyList<AdminScope> required = requirement.Scope is { } scope ? [scope] : http is null ? [AdminScope.Admin] : AdminAuthentication.Required(http);
        var held = context.User.FindAll(ProvisioningAdminDefaults.ScopeClaimType).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        if (held.Contains(AdminAuthentication.ScopeName(AdminScope.Admin)) || required.Any(r => held.Contains(AdminAuthentication.ScopeName(r))))
        {
            context.Succeed(requirement);
        }
        else if (http is not null)
        {
            http.Items[AdminAuthentication.RequiredItem] = required;
        }

        return Task.CompletedTask;
    }
}

/// <summary>What the admin endpoints share about the caller.</summary>
internal static class AdminAuthentication
{
    internal const string ActorItem = "Sndctl.Provisioning.AdminActor";
    internal const string RequiredItem = "Sndctl.Provisioning.AdminScopesRequired";

    /// <summary>The scopes of which the endpoint needs one: those it names, else read for GET/HEAD and admin for changes.</summary>
    public static IReadOnlyList<AdminScope> Required(HttpContext http)
        => http.GetEndpoint()?.Metadata.GetMetadata<AdminScopeMetadata>()?.Scopes
            ?? [HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) ? AdminScope.Read : AdminScope.Admin];

    /// <summary>A scope as configuration and messages write it.</summary>
    public static string ScopeName(AdminScope scope) => scope.ToString().ToLowerInvariant();

    /// <summary>The audit actor: the admin key's (<c>admin:&lt;digest&gt;</c>), else the name of a principal an app's own policy admitted.</summary>
    public static string ActorOf(HttpContext context) => context.Items[ActorItem] as string ?? context.User.Identity?.Name ?? "admin";

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
