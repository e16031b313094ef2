using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>
/// Batch creation for the factory line: the devices are made and their secrets go straight into a CSV
/// download (never rendered in the page).
/// </summary>
public sealed class BatchModel(IDeviceAdminService admin, TimeProvider time) : PageModel
{
    [BindProperty]
    public int Count { get; set; } = 100;

    [BindProperty]
    public string? Labels { get; set; }

    public string? Error { get; private set; }

    public void OnGet() => ViewData["Nav"] = "batch";

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        ViewData["Nav"] = "batch";
        if (!LabelText.TryParse(Labels, out var labels, out var labelError))
        {
            Error = labelError;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        IReadOnlyList<CreatedDevice> created;
        try
        {
            created = await admin.CreateDevicesAsync(Count, labels, User.Actor(), cancellationToken);
        }
        catch (DeviceValidationException ex)
        {
            Error = ex.Message;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var csv = new StringBuilder("deviceId,secret,hostname\r\n");
        foreach (var device in created)
        {
            csv.Append(device.DeviceId).Append(',').Append(device.Secret).Append(',').Append(device.Hostname).Append("\r\n");
        }

        var name = $"devices-{time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.csv";
        return File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", name);
    }
}
