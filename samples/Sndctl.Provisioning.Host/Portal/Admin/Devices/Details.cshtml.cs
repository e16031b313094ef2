using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>One device: its state, certificate history and events, and the actions on it.</summary>
public sealed class DeviceModel(IDeviceAdminService admin, TimeProvider time) : PageModel
{
    public DeviceDetails Details { get; private set; } = null!;

    public DateTimeOffset Now { get; private set; }

    [TempData]
    public string? Notice { get; set; }

    public async Task<IActionResult> OnGetAsync(string deviceId, CancellationToken cancellationToken)
    {
        ViewData["Nav"] = "devices";
        Now = time.GetUtcNow();
        var details = await admin.GetDeviceAsync(deviceId, cancellationToken);
        if (details is null)
        {
            return NotFound();
        }

        Details = details;
        return Page();
    }
}
