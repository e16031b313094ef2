namespace Sndctl.Provisioning.Core;

/// <summary>A device listing query.</summary>
/// <param name="Status">Only this status, if given.</param>
/// <param name="Search">The beginning of the device ID (or of the hostname, which starts with it), if given: a prefix, so a store answers it from an index.</param>
/// <param name="Page">1-based page number.</param>
/// <param name="PageSize">Items per page.</param>
/// <param name="Sort">What the listing is ordered by.</param>
/// <param name="Descending">Largest (newest) first.</param>
public sealed record DeviceQuery(DeviceStatus? Status = null, string? Search = null, int Page = 1, int PageSize = 50, DeviceSort Sort = DeviceSort.Created, bool Descending = true)
{
    /// <summary>Only devices that still hold their factory secret (true) or that replaced it (false), if given.</summary>
    public bool? FactorySecret { get; init; }

    /// <summary>Only devices that last reported this <see cref="Device.NameResolution"/>, if given.</summary>
    public DeviceNameResolution? NameResolution { get; init; }

    /// <summary>
    /// Whether <see cref="IDeviceStore.ListAsync"/> counts the matching devices (<see cref="Page{T}.Total"/>); false when
    /// the caller has the count (<see cref="IDeviceStore.CountAsync"/>, kept for a while on a large fleet), and a store
    /// may then leave the total at -1.
    /// </summary>
    public bool CountTotal { get; init; } = true;
}
