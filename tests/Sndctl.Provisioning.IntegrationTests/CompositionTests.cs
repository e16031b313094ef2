using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Acme;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Host.Data;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// Every package's registration composes with the others in any order, survives being called twice
/// (the last <c>Use*</c> of a seam wins, nothing is registered twice), and builds with
/// <c>ValidateOnBuild</c> and <c>ValidateScopes</c>.
/// </summary>
public sealed class CompositionTests
{
    [Fact]
    public async Task Each_package_called_twice_builds_validated_with_one_implementation_per_seam()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<HostDbContext, SqliteHostDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        for (var i = 0; i < 2; i++)
        {
            var provisioning = services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
                .UseEntityFrameworkStores<HostDbContext>()
                .AddPrivateCsrService()
                .UsePrivateCaIssuer()
                .UseAcme(o => o.DirectoryUrl = new Uri("https://127.0.0.1:14000/dir"))
                .UseCloudflareDns(o => o.ApiToken = "cf-token-0123456789")
                .UseRoute53Dns(o => (o.AccessKeyId, o.SecretAccessKey) = ("AKIAEXAMPLE", "secret"))
                .AddAspNetCore(o => o.AdminApiKeys.Add(new string('k', 32)));
            Assert.NotNull(provisioning);
        }

        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        await using var scope = provider.CreateAsyncScope();

        Assert.Equal("Acme", scope.ServiceProvider.GetRequiredService<ICertificateIssuer>().Name); // the last issuer called
        Assert.Single(services, d => d.ServiceType == typeof(ICertificateIssuer));
        Assert.Single(services, d => d.ServiceType == typeof(IDnsProvider));
        Assert.Contains("Route53", scope.ServiceProvider.GetRequiredService<IDnsProvider>().GetType().Name, StringComparison.Ordinal);
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<ICsrService>());
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<IDeviceProvisioningService>());
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<AcmeIssuerOptions>));
        var hosted = services.Where(d => d.ServiceType == typeof(IHostedService)).Select(d => d.ImplementationType ?? d.ImplementationFactory?.Method.ReturnType).ToList();
        Assert.Equal(hosted.Count, hosted.Distinct().Count());
        var checks = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name).ToList();
        Assert.Equal(checks.Count, checks.Distinct().Count());
        Assert.Contains("issuer", checks);
        Assert.Single(provider.GetKeyedServices<TimeProvider>(RemoteTime.ServiceKey));
    }
}
