using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>
/// Every action on a device is confirmed on its own page (no script needed), then done by a POST
/// with an antiforgery token. A rotated secret is shown once, on the answer to that POST.
/// </summary>
public sealed class ConfirmModel(IDeviceAdminService admin) : PageModel
{
    private static readonly Dictionary<string, (string Title, string Explanation, bool Destructive)> s_operations = new()
    {
        ["disable"] = ("Disable", "The device can no longer register or renew until it is enabled again. Its current certificate stays valid.", false),
        ["enable"] = ("Enable", "The device can register and renew again.", false),
        ["rotate"] = ("Rotate the secret of", "The old secret stops working at once: the device needs the new one in its firmware or configuration.", true),
        ["revoke"] = ("Revoke the certificate of", "The current certificate is revoked at its CA and cannot be un-revoked; the device gets a new one at its next register.", true),
        ["delete"] = ("Delete", "Its valid certificates are revoked; the device, its certificate history and its secret are removed. This cannot be undone.", true),
    };

    public string DeviceId { get; private set; } = "";

    public string Operation { get; private set; } = "";

    public (string Title, string Explanation, bool Destructive) Description => s_operations[Operation];

    public string? NewSecret { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string deviceId, string operation, CancellationToken cancellationToken)
    {
        if (!s_operations.ContainsKey(operation) || await admin.GetDeviceAsync(deviceId, cancellationToken) is null)
        {
            return NotFound();
        }

        (DeviceId, Operation) = (deviceId, operation);
        ViewData["Nav"] = "devices";
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string deviceId, string operation, CancellationToken cancellationToken)
    {
        if (!s_operations.ContainsKey(operation))
        {
            return NotFound();
        }

        (DeviceId, Operation) = (deviceId, operation);
        ViewData["Nav"] = "devices";
        var actor = User.Actor();
        try
        {
            switch (operation)
            {
                case "disable" or "enable":
                    if (!await admin.SetEnabledAsync(deviceId, operation == "enable", actor, cancellationToken))
                    {
                        return NotFound();
                    }

                    TempData["Notice"] = operation == "enable" ? "Enabled." : "Disabled.";
                    return LocalRedirect($"/admin/devices/{deviceId}");
                case "rotate":
                    NewSecret = await admin.RotateSecretAsync(deviceId, actor, cancellationToken);
                    return NewSecret is null ? NotFound() : Page();
                case "revoke":
                    var outcome = await admin.RevokeCertificateAsync(deviceId, actor, cancellationToken);
                    if (outcome == RevokeOutcome.DeviceNotFound)
                    {
                        return NotFound();
                    }

                    if (outcome != RevokeOutcome.Revoked)
                    {
                        Error = outcome == RevokeOutcome.NoCertificate ? "The device has no current certificate." : "The certificate was issued by another CA than the one configured now; revoke it there.";
                        return Page();
                    }

                    TempData["Notice"] = "Certificate revoked.";
                    return LocalRedirect($"/admin/devices/{deviceId}");
                default:
                    if (!await admin.DeleteDeviceAsync(deviceId, actor, cancellationToken))
                    {
                        return NotFound();
                    }

                    TempData["Notice"] = $"Device {deviceId} deleted.";
                    return LocalRedirect("/admin/devices");
            }
        }
        catch (Exception ex) when (ex is CertificateAuthorityUnavailableException or CertificateIssuanceException)
        {
            // Revoking (and deleting, which revokes) needs the CA: say so instead of an error page.
            Error = "The certificate authority refused or could not be reached, so the action stopped there; try again later. " + ex.Message;
            return Page();
        }
    }
}
