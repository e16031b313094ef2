using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Storage.EfCore.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Picks the Entity Framework Core stores.</summary>
public static class EntityFrameworkStoresBuilderExtensions
{
    /// <summary>
    /// Stores devices, certificates, events, issuer state, leases, rate limits and CSR requests through <typeparamref name="TContext"/>,
    /// whose <c>OnModelCreating</c> calls <c>modelBuilder.UseDeviceProvisioning()</c>. Register the
    /// context yourself (<c>AddDbContext&lt;TContext&gt;</c>) with SQLite or PostgreSQL. Adds a
    /// <c>database</c> health check.
    /// </summary>
    public static DeviceProvisioningBuilder UseEntityFrameworkStores<TContext>(this DeviceProvisioningBuilder builder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.RemoveAll<IDeviceStore>();
        services.RemoveAll<ICertificateStore>();
        services.RemoveAll<IAuditEventStore>();
        services.RemoveAll<IIssuerStateStore>();
        services.RemoveAll<IIssuanceLeaseStore>();
        services.RemoveAll<ICsrRequestStore>();
        services.RemoveAll<IRateLimitStore>();
        services.RemoveAll<IZoneRecordStore>();
        services.RemoveAll<IIssuanceQueueStore>();
        services.AddScoped<IDeviceStore, EfDeviceStore<TContext>>();
        services.AddScoped<ICertificateStore, EfCertificateStore<TContext>>();
        services.AddScoped<IAuditEventStore, EfAuditEventStore<TContext>>();
        services.AddScoped<IIssuerStateStore, EfIssuerStateStore<TContext>>();
        services.AddScoped<IIssuanceLeaseStore, EfIssuanceLeaseStore<TContext>>();
        services.AddScoped<IIssuanceJournalStore, EfIssuanceJournalStore<TContext>>();
        services.AddScoped<ICsrRequestStore, EfCsrRequestStore<TContext>>();
        services.AddScoped<IRateLimitStore, EfRateLimitStore<TContext>>();
        services.AddScoped<IZoneRecordStore, EfZoneRecordStore<TContext>>();
        services.AddScoped<IIssuanceQueueStore, EfIssuanceQueueStore<TContext>>();

        services.Configure<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>(o =>
        {
            if (o.Registrations.All(r => r.Name != ProvisioningHealthChecks.Database))
            {
                o.Registrations.Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
                    ProvisioningHealthChecks.Database,
                    sp => new DbContextHealthCheck<TContext>(sp.GetRequiredService<IServiceScopeFactory>()),
                    failureStatus: null,
                    tags: [ProvisioningHealthChecks.ReadyTag]));
            }
        });
        return builder;
    }
}
