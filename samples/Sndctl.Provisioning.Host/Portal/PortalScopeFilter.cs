using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Sndctl.Provisioning.AspNetCore;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>
/// The portal keeps to the scopes of the key that signed in, as the admin API does: a <c>read</c> key sees
/// everything and changes nothing, a <c>devices</c> key only creates devices, a <c>csr</c> key decides CSR
/// requests (and sees them), an <c>admin</c> key does everything. A change outside the scopes is answered 403.
/// </summary>
internal sealed class PortalScopeFilter : IAsyncPageFilter
{
    public const string ScopesItem = "sndctl:scopes";

    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var page = context.ActionDescriptor.ViewEnginePath;
        if (page is "/Admin/Login" or "/Admin/Logout" || !page.StartsWith("/Admin", StringComparison.Ordinal))
        {
            await next();
            return;
        }

        // The key's scopes as configured now, not as they were at sign-in.
        var authenticator = context.HttpContext.RequestServices.GetRequiredService<AdminApiKeyAuthenticator>();
        var scopes = authenticator.ScopesOf(context.HttpContext.User.Actor()).ToHashSet();
        var reading = HttpMethods.IsGet(context.HttpContext.Request.Method) || HttpMethods.IsHead(context.HttpContext.Request.Method);
        AdminScope[] allowed = (page, reading) switch
        {
            ("/Admin/Devices/New" or "/Admin/Devices/Batch", _) => [AdminScope.Devices],
            ("/Admin/Csr", true) => [AdminScope.Read, AdminScope.Csr],
            ("/Admin/Csr", false) => [AdminScope.Csr],
            (_, true) => [AdminScope.Read],
            _ => [],
        };
        if (scopes.Contains(AdminScope.Admin) || allowed.Any(scopes.Contains))
        {
            context.HttpContext.Items[ScopesItem] = scopes;
            await next();
            return;
        }

        context.Result = new ContentResult
        {
            StatusCode = StatusCodes.Status403Forbidden,
            ContentType = "text/plain; charset=utf-8",
            Content = $"The key you signed in with may not do this (its scopes: {string.Join(", ", scopes.Select(s => s.ToString().ToLowerInvariant()))}).",
        };
    }
}
