using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace Sndctl.Provisioning.Core.Tests;

public sealed class DeviceProvisioningServiceCollectionExtensionsTests
{
    private static ServiceCollection WithSeams()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddScoped(_ => Mock.Of<IDeviceStore>());
        services.AddScoped(_ => Mock.Of<ICertificateStore>());
        services.AddScoped(_ => Mock.Of<IAuditEventStore>());
        services.AddScoped(_ => Mock.Of<IIssuerStateStore>());
        services.AddScoped(_ => Mock.Of<IIssuanceLeaseStore>());
        services.AddScoped(_ => Mock.Of<IIssuanceJournalStore>());
        services.AddScoped(_ => Mock.Of<IRateLimitStore>());
        return services;
    }

    private sealed class FakeIssuer : ICertificateIssuer
    {
        public string Name => "Fake";

        public Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public void Add_device_provisioning_resolves_everything_with_validation_and_use_twice_keeps_one()
    {
        var services = WithSeams();
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com").UseIssuer<FakeIssuer>().UseIssuer<FakeIssuer>();
        services.AddDeviceProvisioning();
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        using var scope = provider.CreateScope();
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<IDeviceProvisioningService>());
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<IDeviceAdminService>());
        Assert.Single(services, d => d.ServiceType == typeof(ICertificateIssuer));
        Assert.Equal("devices.example.com", provider.GetRequiredService<IOptions<DeviceProvisioningOptions>>().Value.BaseDomain);
    }

    [Fact]
    public void Options_missing_issuer_and_base_domain_fail_with_fix()
    {
        var services = WithSeams();
        services.AddDeviceProvisioning();
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => { _ = provider.GetRequiredService<IOptions<DeviceProvisioningOptions>>().Value; });
        Assert.Contains(ex.Failures, f => f.Contains("No ICertificateIssuer is registered: call UsePrivateCaIssuer()", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Provisioning:BaseDomain is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_lease_of_a_second_or_an_instance_id_with_a_hash_fail()
    {
        var services = WithSeams();
        services.AddDeviceProvisioning(o =>
        {
            o.BaseDomain = "devices.example.com";
            o.IssuanceLeaseDuration = TimeSpan.FromSeconds(1);
            o.InstanceId = "node#1";
        }).UseIssuer<FakeIssuer>();
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => { _ = provider.GetRequiredService<IOptions<DeviceProvisioningOptions>>().Value; });
        Assert.Contains(ex.Failures, f => f.Contains("IssuanceLeaseDuration must be 3 s to 1 h", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("InstanceId", StringComparison.Ordinal));
    }
}
