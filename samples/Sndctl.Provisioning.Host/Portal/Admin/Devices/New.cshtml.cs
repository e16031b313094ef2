using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>Creates one device and shows its secret once.</summary>
public sealed class NewDeviceModel(IDeviceAdminService admin) : PageModel
{
    public CreatedDevice? Created { get; private set; }

    public string? Error { get; private set; }

    [BindProperty]
    public string? DeviceId { get; set; }

    [BindProperty]
    public string? Labels { get; set; }

    public void OnGet() => ViewData["Nav"] = "new";

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        ViewData["Nav"] = "new";
        if (!LabelText.TryParse(Labels, out var labels, out var labelError))
        {
            Error = labelError;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            Created = await admin.CreateDeviceAsync(string.IsNullOrWhiteSpace(DeviceId) ? null : DeviceId.Trim(), labels, User.Actor(), cancellationToken);
        }
        catch (Exception ex) when (ex is DeviceValidationException or DuplicateDeviceException)
        {
            Error = ex.Message;
            Response.StatusCode = ex is DuplicateDeviceException ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest;
        }

        return Page();
    }
}

/// <summary>Labels typed as <c>key=value</c>, one per line or comma-separated.</summary>
public static class LabelText
{
    public static bool TryParse(string? text, out Dictionary<string, string>? labels, out string? error)
    {
        labels = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        labels = [];
        foreach (var part in text.Split(['\n', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"Label '{part}' is not key=value.";
                return false;
            }

            labels[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        return true;
    }
}
