using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Benchmarks;

public sealed class BenchDbContext(DbContextOptions<BenchDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.UseDeviceProvisioning();
}

/// <summary>
/// Register for a device that already holds a valid certificate: authenticate, read the device and
/// its certificate, decrypt the key. No issuance. In process, SQLite file, the real services.
/// </summary>
[MemoryDiagnoser]
public class RegisterFastPathBenchmarks
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"sndctl-bench-{Guid.NewGuid():N}.db");
    private ServiceProvider _services = null!;
    private ProvisioningRequest _request = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<BenchDbContext>(o => o.UseSqlite($"Data Source={_database}"));
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
            .UsePrivateCaIssuer()
            .UseEntityFrameworkStores<BenchDbContext>();
        _services = services.BuildServiceProvider();
        using var scope = _services.CreateScope();
        scope.ServiceProvider.GetRequiredService<BenchDbContext>().Database.EnsureCreated();
        var created = scope.ServiceProvider.GetRequiredService<IDeviceAdminService>().CreateDeviceAsync(null, null, "bench", default).GetAwaiter().GetResult();
        _request = new ProvisioningRequest(created.DeviceId, created.Secret);
        var first = scope.ServiceProvider.GetRequiredService<IDeviceProvisioningService>().RegisterAsync(_request, default).GetAwaiter().GetResult();
        if (first.Outcome != ProvisioningOutcome.Issued)
        {
            throw new InvalidOperationException($"Setup registration ended {first.Outcome}.");
        }
    }

    [Benchmark]
    public async Task<ProvisioningResult> RegisterFastPath()
    {
        await using var scope = _services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<IDeviceProvisioningService>().RegisterAsync(_request, default);
        return result.Outcome == ProvisioningOutcome.Current ? result : throw new InvalidOperationException(result.Outcome.ToString());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_database);
    }
}
