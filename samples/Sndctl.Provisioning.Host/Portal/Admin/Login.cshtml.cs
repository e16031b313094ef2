using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sndctl.Provisioning.AspNetCore;

namespace Sndctl.Provisioning.Host.Portal;

public sealed class LoginModel(AdminApiKeyAuthenticator authenticator) : PageModel
{
    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? key)
    {
        var client = HttpContext.Connection.RemoteIpAddress?.ToString();
        if (authenticator.RetryAfter(client) is { } wait)
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Error = $"Too many failed attempts; try again in {Math.Ceiling(wait.TotalSeconds)} s.";
            return Page();
        }

        var actor = authenticator.Authenticate(key?.Trim(), client);
        if (actor is null)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Error = "That is not an admin API key.";
            return Page();
        }

        var identity = new ClaimsIdentity([new Claim(AdminPortal.ActorClaim, actor), new Claim(ClaimTypes.Name, actor)], AdminPortal.Scheme);
        await HttpContext.SignInAsync(AdminPortal.Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
        return LocalRedirect("/admin");
    }
}
