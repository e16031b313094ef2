using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Sndctl.Provisioning.Benchmarks;

/// <summary>
/// The private-IP CSR service in process: the policy check alone, and a whole submission (policy,
/// signing by the name-constrained intermediate, the request stored in a SQLite file).
/// </summary>
[MemoryDiagnoser]
public class CsrServiceBenchmarks
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"sndctl-bench-csr-{Guid.NewGuid():N}.db");
    private ServiceProvider _services = null!;
    private string _pem = "";

    [GlobalSetup]
    public void Setup()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=192.168.1.10", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Parse("192.168.1.10"));
        request.CertificateExtensions.Add(san.Build());
        _pem = request.CreateSigningRequestPem();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<BenchDbContext>(o => o.UseSqlite($"Data Source={_database}"));
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
            .AddPrivateCsrService(o => { o.CrlBaseUrl = new Uri("https://ca.example.com/"); o.PostsPerMinute = 0; o.NetworkPostsPerMinute = 0; })
            .UseEntityFrameworkStores<BenchDbContext>();
        _services = services.BuildServiceProvider();
        using var scope = _services.CreateScope();
        scope.ServiceProvider.GetRequiredService<BenchDbContext>().Database.EnsureCreated();
        Submit().GetAwaiter().GetResult(); // Makes the intermediates once, outside the measurement.
    }

    [Benchmark]
    public bool CheckPolicy() => CsrPolicy.Check(_pem).PublicKey is not null;

    [Benchmark]
    public async Task<CsrRequest> Submit()
    {
        await using var scope = _services.CreateAsyncScope();
        var request = await scope.ServiceProvider.GetRequiredService<ICsrService>().SubmitAsync(new CsrSubmission(_pem) { ClientAddress = System.Net.IPAddress.Loopback }, default);
        return request.Status == CsrRequestStatus.Approved ? request : throw new InvalidOperationException(request.Message);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_database);
    }
}
