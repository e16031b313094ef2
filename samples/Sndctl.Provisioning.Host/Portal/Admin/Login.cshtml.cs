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
        // The key first: a right key signs in whatever others at this address tried.
        var check = authenticator.Authenticate(key?.Trim(), HttpContext.Connection.RemoteIpAddress);
        if (check.Actor is not { } actor)
        {
            Response.StatusCode = check.RetryAfter is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status429TooManyRequests;
            Error = check.RetryAfter is { } wait
                ? $"Too many failed attempts; try again in {Math.Ceiling(wait.TotalSeconds)} s."
                : "That is not an admin API key.";
            return Page();
        }

        var identity = new ClaimsIdentity([new Claim(AdminPortal.ActorClaim, actor), new Claim(ClaimTypes.Name, actor)], AdminPortal.Scheme);
        await HttpContext.SignInAsync(AdminPortal.Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
        return LocalRedirect("/admin");
    }
}
