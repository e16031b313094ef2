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
        Assert.All(ProvisioningStores.All, store => Assert.Single(services, d => d.ServiceType == store));
        var handlers = services.Where(d => d.ServiceType == typeof(Microsoft.AspNetCore.Diagnostics.IExceptionHandler)).Select(d => d.ImplementationType).ToList();
        Assert.Equal(handlers.Count, handlers.Distinct().Count());
        var jobs = services.Where(d => d.ServiceType == typeof(IProvisioningJob)).Select(d => d.ImplementationType).ToList();
        Assert.Equal(jobs.Count, jobs.Distinct().Count());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Replacing_an_issuer_or_a_DNS_provider_leaves_nothing_of_the_one_before(bool acmeFirst)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<HostDbContext, SqliteHostDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        var provisioning = services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
            .UseEntityFrameworkStores<HostDbContext>()
            .AddPrivateCsrService()
            .AddAspNetCore(o => o.AdminApiKeys.Add(new string('k', 32)));

        // The first of each seam is misconfigured (its validation would stop the start); the last is sound.
        if (acmeFirst)
        {
            provisioning.UseAcme(o => { }).UseCloudflareDns(o => { }).UsePrivateCaIssuer().UseRoute53Dns(o => (o.AccessKeyId, o.SecretAccessKey) = ("AKIAEXAMPLE", "secret"));
        }
        else
        {
            provisioning.UsePrivateCaIssuer().UseRoute53Dns(o => { }).UseAcme(o => o.DirectoryUrl = new Uri("https://127.0.0.1:14000/dir")).UseCloudflareDns(o => o.ApiToken = "cf-token-0123456789");
        }

        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        using var scope = provider.CreateScope();
        Assert.Equal(acmeFirst ? "PrivateCa" : "Acme", scope.ServiceProvider.GetRequiredService<ICertificateIssuer>().Name);
        Assert.Equal(!acmeFirst, provider.GetService<ICertificateAuthorityBudget>() is not null); // the CA budget is the ACME issuer's
        Assert.Equal(!acmeFirst, provider.GetServices<IProvisioningJob>().Any(j => j.Name == "acme-budget"));
        Assert.Equal(!acmeFirst, services.Any(d => d.ServiceType == typeof(IValidateOptions<AcmeIssuerOptions>)));
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<ICsrService>()); // the CA the CSR service signs with stays
        var dnsProvider = scope.ServiceProvider.GetRequiredService<IDnsProvider>().GetType().Name;
        Assert.Contains(acmeFirst ? "Route53" : "Cloudflare", dnsProvider, StringComparison.Ordinal);
        var hosted = provider.GetServices<IHostedService>().Select(h => h.GetType().Namespace!).ToList();
        Assert.DoesNotContain(hosted, n => n.StartsWith(acmeFirst ? "Sndctl.Provisioning.Dns.Cloudflare" : "Sndctl.Provisioning.Dns.Route53", StringComparison.Ordinal));
    }
}
