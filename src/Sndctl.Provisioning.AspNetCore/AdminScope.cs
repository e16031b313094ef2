namespace Sndctl.Provisioning.AspNetCore;

/// <summary>What an admin key may do (<see cref="AdminKeyOptions.Scopes"/>). A call outside its key's scopes is answered 403.</summary>
public enum AdminScope
{
    /// <summary>Everything (the keys of <see cref="DeviceProvisioningAspNetCoreOptions.AdminApiKeys"/>).</summary>
    Admin = 0,

    /// <summary>Every admin read (GET), and the portal read-only.</summary>
    Read = 1,

    /// <summary>Creating devices, one or a batch: the factory line. Nothing else, not even reading them.</summary>
    Devices = 2,

    /// <summary>Deciding private-IP CSR requests: approve, deny, revoke.</summary>
    Csr = 3,

    /// <summary>Scraping <c>/metrics</c>.</summary>
    Metrics = 4,
}

/// <summary>An admin API key with the scopes it is limited to (configuration <c>Provisioning:Admin:Keys:N:Key</c> and <c>:Scopes:M</c>).</summary>
public sealed class AdminKeyOptions
{
    /// <summary>The key, at least <see cref="DeviceProvisioningAspNetCoreOptions.MinAdminApiKeyLength"/> characters.</summary>
    public string Key { get; set; } = "";

    /// <summary>What the key may do; at least one.</summary>
    public IList<AdminScope> Scopes { get; } = [];
}
