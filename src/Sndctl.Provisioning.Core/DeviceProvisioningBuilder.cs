using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Core;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Configures device provisioning: returned by <c>AddDeviceProvisioning()</c>; provider packages add
/// <c>Use*</c> methods to it. Every call may be made twice: <c>Use*</c> replaces, it never adds a second.
/// </summary>
public sealed class DeviceProvisioningBuilder
{
    internal DeviceProvisioningBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Changes <see cref="DeviceProvisioningOptions"/>.</summary>
    public DeviceProvisioningBuilder Configure(Action<DeviceProvisioningOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Makes <typeparamref name="TIssuer"/> the certificate issuer (scoped).</summary>
    public DeviceProvisioningBuilder UseIssuer<TIssuer>()
        where TIssuer : class, ICertificateIssuer
    {
        Services.RemoveAll<ICertificateIssuer>();
        Services.AddScoped<ICertificateIssuer, TIssuer>();
        return this;
    }

    /// <summary>Makes <typeparamref name="TProvider"/> the DNS provider (scoped).</summary>
    public DeviceProvisioningBuilder UseDnsProvider<TProvider>()
        where TProvider : class, IDnsProvider
    {
        Services.RemoveAll<IDnsProvider>();
        Services.AddScoped<IDnsProvider, TProvider>();
        return this;
    }
}
