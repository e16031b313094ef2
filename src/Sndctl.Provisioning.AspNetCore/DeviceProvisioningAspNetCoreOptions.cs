namespace Sndctl.Provisioning.AspNetCore;

/// <summary>Options of the HTTP endpoints.</summary>
public sealed class DeviceProvisioningAspNetCoreOptions
{
    /// <summary>Minimum length of an admin API key.</summary>
    public const int MinAdminApiKeyLength = 32;

    /// <summary>
    /// Keys accepted as <c>Authorization: Bearer &lt;key&gt;</c> on the admin API (configuration
    /// <c>Provisioning:Admin:ApiKeys</c>). Several keys allow rotation. At least 32 characters each.
    /// </summary>
    public IList<string> AdminApiKeys { get; } = [];

    /// <summary>
    /// Keys limited to some scopes (configuration <c>Provisioning:Admin:Keys</c>): a <see cref="AdminScope.Read"/> key for
    /// dashboards and auditors, a <see cref="AdminScope.Devices"/> key for the factory line, a <see cref="AdminScope.Metrics"/>
    /// key for Prometheus. A call outside the key's scopes is answered 403.
    /// </summary>
    public IList<AdminKeyOptions> AdminKeys { get; } = [];

    /// <summary>Largest accepted body on the device API. Default 32 KiB (a CSR is at most 16 KiB).</summary>
    public long MaxDeviceRequestBodySize { get; set; } = 32 * 1024;

    /// <summary>Largest accepted body on the admin API. Default 64 KiB.</summary>
    public long MaxAdminRequestBodySize { get; set; } = 64 * 1024;

    /// <summary>
    /// Failed authentications for one device ID within <see cref="FailureWindow"/> after which further
    /// wrong secrets for it are answered 429. A right secret is always accepted.
    /// </summary>
    public int MaxFailuresPerDevice { get; set; } = 10;

    /// <summary>
    /// Failed authentications from one client network (an IPv4 address or an IPv6 /64) within
    /// <see cref="FailureWindow"/> after which its further failures are answered 429; counted apart for
    /// device secrets and admin keys. Right credentials are always accepted.
    /// </summary>
    public int MaxFailuresPerClient { get; set; } = 30;

    /// <summary>The window over which failures are counted; a throttled caller waits until it ends.</summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Most failure windows kept in memory (one per device ID or client network that failed recently);
    /// beyond it the oldest are dropped. Default 50,000 (a few MiB).
    /// </summary>
    public int FailureTrackingCapacity { get; set; } = 50_000;
}
