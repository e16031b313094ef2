using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>Private-IP CSR requests waiting for a decision (Provisioning:PrivateCa:Approval=Manual), and the latest decided.</summary>
public sealed class CsrModel(ICsrService requests) : PageModel
{
    public Page<CsrRequest> Pending { get; private set; } = null!;

    public Page<CsrRequest> Recent { get; private set; } = null!;

    [TempData]
    public string? Notice { get; set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostApproveAsync(string id, CancellationToken cancellationToken)
        => await DecideAsync(() => requests.ApproveAsync(id, User.Actor(), cancellationToken), $"{id} approved.", cancellationToken);

    public async Task<IActionResult> OnPostDenyAsync(string id, string? reason, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 512)
        {
            Error = "Give the client a reason to deny (at most 512 characters).";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(cancellationToken);
            return Page();
        }

        return await DecideAsync(() => requests.DenyAsync(id, reason.Trim(), User.Actor(), cancellationToken), $"{id} denied.", cancellationToken);
    }

    private async Task<IActionResult> DecideAsync(Func<Task<CsrRequest?>> decide, string notice, CancellationToken cancellationToken)
    {
        try
        {
            if (await decide() is null)
            {
                return NotFound();
            }

            TempData["Notice"] = notice;
            return LocalRedirect("/admin/csr");
        }
        catch (Exception ex) when (ex is InvalidOperationException or ConcurrencyConflictException)
        {
            Error = ex is ConcurrencyConflictException ? "Someone else decided it at the same time." : ex.Message;
            Response.StatusCode = StatusCodes.Status409Conflict;
            await LoadAsync(cancellationToken);
            return Page();
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        ViewData["Nav"] = "csr";
        Pending = await requests.ListAsync(CsrRequestStatus.Pending, 1, 100, cancellationToken);
        Recent = await requests.ListAsync(null, 1, 20, cancellationToken);
    }
}
