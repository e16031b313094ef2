using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>The device list: paged, searchable, sortable, with status and certificate expiry at a glance.</summary>
public sealed class DevicesModel(IDeviceAdminService admin, TimeProvider time) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    /// <summary><c>blocked</c>, <c>ok</c>, <c>other</c> or <c>unknown</c>: what the devices saw resolving their own name.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Resolution { get; set; }

    /// <summary>True: only devices that still hold their factory secret.</summary>
    [BindProperty(SupportsGet = true)]
    public bool? FactorySecret { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public Page<DeviceSummary> Result { get; private set; } = null!;

    [TempData]
    public string? Notice { get; set; }

    public DateTimeOffset Now { get; private set; }

    public int Pages => Math.Max(1, (Result.Total + PageSize - 1) / PageSize);


    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        ViewData["Nav"] = "devices";
        Now = time.GetUtcNow();
        DeviceStatus? status = Enum.TryParse<DeviceStatus>(Status, ignoreCase: true, out var s) && !int.TryParse(Status, out _) ? s : null;
        var sortName = (Sort ?? "-created").TrimStart('-');
        var sort = Enum.TryParse<DeviceSort>(sortName, ignoreCase: true, out var parsed) && !int.TryParse(sortName, out _) ? parsed : DeviceSort.Created;
        var descending = Sort is null || Sort.StartsWith('-');
        var search = Search is { Length: > 253 } ? Search[..253] : Search;
        DeviceNameResolution? resolution = Enum.TryParse<DeviceNameResolution>(Resolution, ignoreCase: true, out var r) && !int.TryParse(Resolution, out _) ? r : null;
        var query = new DeviceQuery(status, search, Math.Max(1, PageNumber), PageSize, sort, descending) { NameResolution = resolution, FactorySecret = FactorySecret };
        Result = await admin.ListDevicesAsync(query, cancellationToken);
        return Page();
    }

    /// <summary>The link that sorts by <paramref name="column"/>, flipping the direction when it is the current sort.</summary>
    public string SortLink(string column)
    {
        var current = Sort ?? "-created";
        var next = current == column ? "-" + column : column;
        return Link(sort: next, page: 1);
    }

    /// <summary>aria-sort of a column header.</summary>
    public string? AriaSort(string column)
    {
        var current = Sort ?? "-created";
        return current == column ? "ascending" : current == "-" + column ? "descending" : null;
    }

    public string Link(string? sort = null, int? page = null)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(Search))
        {
            query.Add("q=" + Uri.EscapeDataString(Search));
        }

        if (!string.IsNullOrEmpty(Status))
        {
            query.Add("status=" + Uri.EscapeDataString(Status));
        }

        if (!string.IsNullOrEmpty(Resolution))
        {
            query.Add("resolution=" + Uri.EscapeDataString(Resolution));
        }

        if (FactorySecret is { } factory)
        {
            query.Add("factorySecret=" + (factory ? "true" : "false"));
        }

        if ((sort ?? Sort) is { Length: > 0 } s)
        {
            query.Add("sort=" + Uri.EscapeDataString(s));
        }

        query.Add("page=" + (page ?? PageNumber));
        return "/admin/devices?" + string.Join('&', query);
    }

    /// <summary>CSS class of a certificate expiry: expired, expiring within 14 days, or fine.</summary>
    public string ExpiryClass(DeviceCertificate? certificate)
        => certificate is null ? "none" : certificate.NotAfter <= Now ? "expired" : certificate.NotAfter <= Now.AddDays(14) ? "soon" : "ok";
}
