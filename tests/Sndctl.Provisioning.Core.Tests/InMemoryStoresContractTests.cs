using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core.Tests.Fakes;
using Sndctl.Provisioning.Testing.Contracts;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>
/// The in-memory stores the unit tests run on keep the same contract as the EF stores (the suite in
/// Sndctl.Provisioning.Testing): a unit test that passes on them is about the behaviour users get.
/// </summary>
public sealed class InMemoryStoresContractTests
{
    public static TheoryData<string> Checks => new(StoreContract.Checks);

    /// <summary>The stores the fake implements; the other checks must report themselves not applicable.</summary>
    private static readonly Type[] s_implemented = [.. typeof(InMemoryStores).GetInterfaces().Where(ProvisioningStores.All.Contains)];

    [Theory]
    [MemberData(nameof(Checks))]
    public async Task Store_contract(string check)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new InMemoryStores(TimeProvider.System));
        foreach (var store in s_implemented)
        {
            services.AddSingleton(store, sp => sp.GetRequiredService<InMemoryStores>());
        }

        await using var provider = services.BuildServiceProvider();
        var ran = await new StoreContract(provider.CreateAsyncScope).RunAsync(check, TestContext.Current.CancellationToken);

        Assert.Equal(StoreContract.StoresOf(check).All(s_implemented.Contains), ran);
    }

    [Fact]
    public void The_required_stores_are_all_implemented()
        => Assert.All(ProvisioningStores.Required, store => Assert.Contains(store, s_implemented));
}
