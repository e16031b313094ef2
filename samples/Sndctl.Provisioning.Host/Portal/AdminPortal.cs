using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Sndctl.Provisioning.AspNetCore;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>
/// The admin portal at <c>/admin</c>: Razor Pages over the same admin services as the admin API.
/// Sign-in takes an admin API key once and keeps only an encrypted session cookie (HttpOnly,
/// SameSite=Strict, path /admin, no expiry date: gone with the browser session); the key itself is
/// never stored, rendered or put in a URL. Every form carries an antiforgery token.
/// </summary>
internal static class AdminPortal
{
    public const string Scheme = "AdminPortal";
    public const string ActorClaim = "sndctl:actor";

    public static IServiceCollection AddAdminPortal(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Portal";
            o.Conventions.ConfigureFilter(new PortalScopeFilter());
            o.Conventions.AuthorizeFolder("/Admin");
            o.Conventions.AllowAnonymousToPage("/Admin/Login");
        });
        services.AddAuthentication(Scheme).AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "sndctl-admin";
            o.Cookie.Path = "/admin";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.LoginPath = "/admin/login";
            o.LogoutPath = "/admin/logout";
            o.AccessDeniedPath = "/admin/login";
            o.ExpireTimeSpan = TimeSpan.FromMinutes(30);
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = async context =>
            {
                // A key removed from configuration ends the sessions signed in with it.
                var authenticator = context.HttpContext.RequestServices.GetRequiredService<AdminApiKeyAuthenticator>();
                if (!authenticator.IsCurrent(context.Principal?.FindFirstValue(ActorClaim)))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(Scheme);
                }
            };
        });
        services.AddAuthorization();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "sndctl-admin-af";
            o.Cookie.Path = "/admin";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.HeaderName = null;
        });
        return services;
    }

    public static WebApplication UseAdminPortal(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/admin"), branch => branch.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            context.Response.OnStarting(() =>
            {
                // Fleet data is not for caches; pages with forms get the same from antiforgery already.
                if (string.IsNullOrEmpty(context.Response.Headers.CacheControl) && !context.Request.Path.Value!.EndsWith(".css", StringComparison.Ordinal) && !context.Request.Path.Value.EndsWith(".js", StringComparison.Ordinal))
                {
                    context.Response.Headers.CacheControl = "no-store";
                }

                return Task.CompletedTask;
            });
            await next();
        }));
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRazorPages();
        return app;
    }

    public static string Actor(this ClaimsPrincipal user) => user.FindFirstValue(ActorClaim) ?? "admin";
}
