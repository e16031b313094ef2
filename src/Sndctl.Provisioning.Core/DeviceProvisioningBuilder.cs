using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Core.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Configures device provisioning: returned by <c>AddDeviceProvisioning()</c>; provider packages add
/// <c>Use*</c> methods to it. Every call may be made twice: <c>Use*</c> replaces everything its predecessor
/// for the same seam registered (<see cref="UseSeam"/>), it never adds a second; <c>Add*</c> adds once.
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

    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to <paramref name="section"/> with unknown keys refused: a misspelt
    /// key stops start-up with a message naming it instead of being ignored. Each package's <c>IConfiguration</c>
    /// overload calls it for its own options, and so claims its section: sections may nest (the core's keys sit
    /// beside <c>Provisioning:Acme</c>), and a key is unknown only when no bound options type has a property for it.
    /// </summary>
    public DeviceProvisioningBuilder BindOptions<TOptions>(IConfiguration section)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(section);
        Services.AddOptions<TOptions>().ValidateOnStart();
        // A second call replaces the first binding (binding twice would add list entries twice).
        foreach (var previous in Services.Where(d => d.ImplementationInstance is StrictConfiguration.Binding<TOptions>).ToList())
        {
            Services.Remove(previous);
        }

        Services.AddSingleton(StrictConfiguration.Of(Services).Bind<TOptions>(section));
        return this;
    }

    /// <summary>
    /// Registers the implementation of <paramref name="seam"/> (one of <see cref="ProvisioningSeams"/>, or a name of
    /// your own) through <paramref name="register"/>, after removing everything the seam's previous implementation
    /// registered: its services, hosted services, options configure and validation steps (<c>ValidateOnStart</c>
    /// included) and health-check registrations. Shared infrastructure that mentions framework types only (the
    /// clock, the HTTP client factory, metrics) stays. Every package's <c>Use*</c> goes through it, so the last
    /// <c>Use*</c> of a seam wins as if the earlier ones had never been called.
    /// </summary>
    public DeviceProvisioningBuilder UseSeam(string seam, Action<IServiceCollection> register)
    {
        ArgumentException.ThrowIfNullOrEmpty(seam);
        ArgumentNullException.ThrowIfNull(register);
        SeamRegistrations.Of(Services).Use(Services, seam, register);
        return this;
    }

    /// <summary>Makes <typeparamref name="TIssuer"/> the certificate issuer (scoped), replacing the previous issuer and all it registered.</summary>
    public DeviceProvisioningBuilder UseIssuer<TIssuer>()
        where TIssuer : class, ICertificateIssuer
        => UseSeam(ProvisioningSeams.Issuer, services =>
        {
            services.RemoveAll<ICertificateIssuer>();
            services.AddScoped<ICertificateIssuer, TIssuer>();
        });

    /// <summary>
    /// Makes <paramref name="factory"/>'s check the <c>issuer</c> health check (tag <c>ready</c>),
    /// replacing the previous issuer's: issuer packages call it from their <c>Use*</c> method.
    /// </summary>
    public DeviceProvisioningBuilder UseIssuerHealthCheck(Func<IServiceProvider, Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.Configure<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>(o =>
        {
            if (o.Registrations.FirstOrDefault(r => r.Name == ProvisioningHealthChecks.Issuer) is { } previous)
            {
                o.Registrations.Remove(previous);
            }

            o.Registrations.Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(ProvisioningHealthChecks.Issuer, factory, null, [ProvisioningHealthChecks.ReadyTag]));
        });
        return this;
    }

    /// <summary>Makes <typeparamref name="TProvider"/> the DNS provider (scoped), replacing the previous provider and all it registered.</summary>
    public DeviceProvisioningBuilder UseDnsProvider<TProvider>()
        where TProvider : class, IDnsProvider
        => UseSeam(ProvisioningSeams.Dns, services =>
        {
            services.RemoveAll<IDnsProvider>();
            services.AddScoped<IDnsProvider, TProvider>();
        });

    /// <summary>Adds <typeparamref name="TJob"/> to the periodic jobs one instance at a time runs (once, however often called).</summary>
    public DeviceProvisioningBuilder AddJob<TJob>()
        where TJob : class, IProvisioningJob
    {
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, TJob>());
        return this;
    }
}
