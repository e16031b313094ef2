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
        return builder.UseSeam(ProvisioningSeams.Stores, services =>
        {
            foreach (var (store, implementation) in Stores<TContext>())
            {
                services.RemoveAll(store);
                services.AddScoped(store, implementation);
            }

            services.TryAddSingleton<ZoneChangeSource>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, DeviceCountCompactionJob<TContext>>());

            // EF Core's own check (CanConnectAsync in a scope of its own). Its registration step is the framework's
            // and outlives a replaced seam: of several "database" checks, the last registered is the one.
            services.AddHealthChecks().AddDbContextCheck<TContext>(ProvisioningHealthChecks.Database, tags: [ProvisioningHealthChecks.ReadyTag]);
            services.PostConfigure<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>(o =>
            {
                var checks = o.Registrations.Where(r => r.Name == ProvisioningHealthChecks.Database).ToList();
                foreach (var earlier in checks.SkipLast(1))
                {
                    o.Registrations.Remove(earlier);
                }
            });
        });
    }

    /// <summary>Every store seam (<see cref="ProvisioningStores.All"/>) and its Entity Framework implementation.</summary>
    internal static IEnumerable<(Type Store, Type Implementation)> Stores<TContext>()
        where TContext : DbContext
        => ProvisioningStores.All.Select(store => (store, store.Name switch
        {
            nameof(IDeviceStore) => typeof(EfDeviceStore<TContext>),
            nameof(ICertificateStore) => typeof(EfCertificateStore<TContext>),
            nameof(IAuditEventStore) => typeof(EfAuditEventStore<TContext>),
            nameof(IIssuerStateStore) => typeof(EfIssuerStateStore<TContext>),
            nameof(IIssuanceLeaseStore) => typeof(EfIssuanceLeaseStore<TContext>),
            nameof(IIssuanceJournalStore) => typeof(EfIssuanceJournalStore<TContext>),
            nameof(IRateLimitStore) => typeof(EfRateLimitStore<TContext>),
            nameof(ICsrRequestStore) => typeof(EfCsrRequestStore<TContext>),
            nameof(IZoneRecordStore) => typeof(EfZoneRecordStore<TContext>),
            nameof(IIssuanceQueueStore) => typeof(EfIssuanceQueueStore<TContext>),
            nameof(IDeviceAcmeAccountStore) => typeof(EfDeviceAcmeAccountStore<TContext>),
            nameof(IDeviceAcmeOrderStore) => typeof(EfDeviceAcmeOrderStore<TContext>),
            nameof(IAcmeNonceStore) => typeof(EfAcmeNonceStore<TContext>),
            _ => throw new InvalidOperationException($"No Entity Framework store for {store.Name}."),
        }));
}
