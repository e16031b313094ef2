using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>
/// Every <c>BindOptions</c> claims its section: packages' sections nest (the core's keys sit beside
/// <c>Provisioning:Acme</c>), so a key is unknown only when no bound options type has a property for it,
/// and then it is reported once, by the options that own the section it sits in.
/// </summary>
public sealed class StrictConfigurationTests
{
    public sealed class OuterOptions
    {
        public string? Name { get; set; }

        public InnerSection Storage { get; set; } = new();

        public sealed class InnerSection
        {
            public string? Provider { get; set; }
        }
    }

    public sealed class NestedOptions
    {
        public string? Token { get; set; }

        public List<EntryOptions> Entries { get; set; } = [];
    }

    public sealed class EntryOptions
    {
        public string? Url { get; set; }
    }

    public sealed class SiblingOptions
    {
        public int Limit { get; set; }
    }

    /// <summary>Core at <c>P</c>, a host-like type at <c>P</c>, a package at <c>P:Dns:Nested</c>, another at <c>P:Http</c>.</summary>
    private static List<string> Failures(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var p = configuration.GetSection("P");
        var services = new ServiceCollection();
        services.AddDeviceProvisioning(p)
            .BindOptions<OuterOptions>(p)
            .BindOptions<NestedOptions>(p.GetSection("Dns:Nested"))
            .BindOptions<SiblingOptions>(p.GetSection("Http"));
        using var provider = services.BuildServiceProvider();
        var failures = new List<string>();
        foreach (var resolve in new Func<object>[]
        {
            () => provider.GetRequiredService<IOptions<DeviceProvisioningOptions>>().Value,
            () => provider.GetRequiredService<IOptions<OuterOptions>>().Value,
            () => provider.GetRequiredService<IOptions<NestedOptions>>().Value,
            () => provider.GetRequiredService<IOptions<SiblingOptions>>().Value,
        })
        {
            try
            {
                resolve();
            }
            catch (OptionsValidationException ex)
            {
                // The seams are not this test's concern (no issuer or stores are registered here).
                failures.AddRange(ex.Failures.Where(f => !f.StartsWith("No I", StringComparison.Ordinal)));
            }
        }

        return failures;
    }

    [Fact]
    public void Keys_of_every_claim_bind_without_complaint()
    {
        var failures = Failures(new()
        {
            ["P:BaseDomain"] = "devices.example.com",
            ["P:Name"] = "host",
            ["P:Storage:Provider"] = "Sqlite",
            ["P:Dns:Nested:Token"] = "t",
            ["P:Dns:Nested:Entries:0:Url"] = "https://a",
            ["P:Http:Limit"] = "3",
        });

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("P:BaseDomian", "P:BaseDomian is not a setting of DeviceProvisioningOptions")]
    [InlineData("P:Storage:Providr", "P:Storage:Providr is not a setting of OuterOptions")]
    [InlineData("P:Dns:Nested:Tokn", "P:Dns:Nested:Tokn is not a setting of NestedOptions")]
    [InlineData("P:Dns:Nested:Entries:0:Uri", "P:Dns:Nested:Entries:0:Uri is not a setting of NestedOptions")]
    [InlineData("P:Dns:Other:Token", "P:Dns:Other is not a setting of DeviceProvisioningOptions")]
    [InlineData("P:Http:Limt", "P:Http:Limt is not a setting of SiblingOptions")]
    public void An_unclaimed_key_is_reported_once_by_the_owner_of_its_section(string key, string expected)
    {
        var failures = Failures(new() { ["P:BaseDomain"] = "devices.example.com", [key] = "x" });

        var failure = Assert.Single(failures);
        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_binding_of_the_same_options_replaces_the_first_claim()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["A:Limit"] = "1",
            ["B:Limit"] = "2",
        }).Build();
        var services = new ServiceCollection();
        services.AddDeviceProvisioning()
            .BindOptions<SiblingOptions>(configuration.GetSection("A"))
            .BindOptions<SiblingOptions>(configuration.GetSection("B"));
        using var provider = services.BuildServiceProvider();

        Assert.Equal(2, provider.GetRequiredService<IOptions<SiblingOptions>>().Value.Limit);
    }

    [Fact]
    public void A_value_that_does_not_convert_names_the_section()
    {
        var failures = Failures(new() { ["P:BaseDomain"] = "devices.example.com", ["P:Http:Limit"] = "many" });

        Assert.Contains(failures, f => f.StartsWith("P:Http:", StringComparison.Ordinal) && f.Contains("Limit", StringComparison.Ordinal));
    }
}
