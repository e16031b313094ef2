using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing.Contracts;

/// <summary>
/// The behaviour every implementation of the store interfaces (<see cref="ProvisioningStores.All"/>) must have,
/// as named checks: run them against your own stores as the project runs them against EF Core on SQLite and
/// PostgreSQL and against its in-memory stores. Each check gets an empty database and opens several scopes
/// on it, as separate requests or instances would (a scope is one unit of work: one <c>DbContext</c>).
/// </summary>
/// <example>
/// With xUnit:
/// <code>
/// public static TheoryData&lt;string&gt; Checks => new(StoreContract.Checks);
///
/// [Theory, MemberData(nameof(Checks))]
/// public async Task Store_contract(string check)
/// {
///     await using var database = await MyDatabase.CreateEmptyAsync(); // a provider with your stores registered
///     var ran = await new StoreContract(database.Services.CreateAsyncScope).RunAsync(check, TestContext.Current.CancellationToken);
///     Assert.True(ran, $"{check} needs {string.Join(", ", StoreContract.StoresOf(check).Select(t => t.Name))}");
/// }
/// </code>
/// </example>
/// <param name="createScope">Opens a unit of work on the (empty, for this check) database, resolving the store interfaces.</param>
public sealed partial class StoreContract(Func<AsyncServiceScope> createScope)
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The names of every check, in a stable order.</summary>
    public static IReadOnlyList<string> Checks => CheckCatalog<StoreContract>.Names;

    /// <summary>The store interfaces <paramref name="check"/> exercises.</summary>
    public static IReadOnlyList<Type> StoresOf(string check) => CheckCatalog<StoreContract>.NeedsOf(check);

    /// <summary>
    /// Runs <paramref name="check"/>: true when it passed, false when a store it needs is not registered;
    /// a broken promise throws <see cref="ContractViolationException"/> naming what was expected and what came.
    /// </summary>
    public async Task<bool> RunAsync(string check, CancellationToken cancellationToken = default)
    {
        var stores = StoresOf(check);
        await using (var probe = createScope())
        {
            if (stores.Any(store => probe.ServiceProvider.GetService(store) is null))
            {
                return false;
            }
        }

        await CheckCatalog<StoreContract>.RunAsync(this, check, cancellationToken);
        return true;
    }

    private UnitOfWork Session() => new(createScope());

    /// <summary>One unit of work and its stores.</summary>
    private sealed class UnitOfWork(AsyncServiceScope scope) : IAsyncDisposable
    {
        public IDeviceStore Devices => Get<IDeviceStore>();

        public ICertificateStore Certificates => Get<ICertificateStore>();

        public IAuditEventStore AuditEvents => Get<IAuditEventStore>();

        public IIssuerStateStore IssuerState => Get<IIssuerStateStore>();

        public IIssuanceLeaseStore Leases => Get<IIssuanceLeaseStore>();

        public IIssuanceJournalStore Journal => Get<IIssuanceJournalStore>();

        public IRateLimitStore RateLimits => Get<IRateLimitStore>();

        public ICsrRequestStore CsrRequests => Get<ICsrRequestStore>();

        public IZoneRecordStore ZoneRecords => Get<IZoneRecordStore>();

        public IIssuanceQueueStore Queue => Get<IIssuanceQueueStore>();

        public IDeviceAcmeAccountStore AcmeAccounts => Get<IDeviceAcmeAccountStore>();

        public IDeviceAcmeOrderStore AcmeOrders => Get<IDeviceAcmeOrderStore>();

        public IAcmeNonceStore AcmeNonces => Get<IAcmeNonceStore>();

        /// <summary>The clock the stores write with (the system's when none is registered).</summary>
        public TimeProvider Time => scope.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;

        public ValueTask DisposeAsync() => scope.DisposeAsync();

        private T Get<T>()
            where T : notnull
            => scope.ServiceProvider.GetRequiredService<T>();
    }

    private static Device NewDevice(string id, DateTimeOffset? createdAt = null) => new()
    {
        DeviceId = id,
        Hostname = id + ".devices.example.com",
        SecretHash = new byte[32],
        CreatedAt = createdAt ?? s_now,
        Labels = new Dictionary<string, string> { ["site"] = "berlin" },
    };

    private static DeviceCertificate NewCertificate(string deviceId, DateTimeOffset notAfter, DateTimeOffset? issuedAt = null, DateTimeOffset? renewAfter = null, string? protectedKey = null) => new()
    {
        DeviceId = deviceId,
        Issuer = "Test",
        SerialNumber = Guid.NewGuid().ToString("N").ToUpperInvariant(),
        Thumbprint = new string('A', 64),
        CertificatePem = "-----BEGIN CERTIFICATE-----",
        NotBefore = notAfter.AddDays(-90),
        NotAfter = notAfter,
        RenewAfter = renewAfter ?? notAfter.AddDays(-30),
        ProtectedPrivateKey = protectedKey,
        IssuedAt = issuedAt ?? s_now,
    };
}
