using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Testing.Contracts;

namespace Sndctl.Provisioning.Storage.EfCore.Tests;

/// <summary>The store contract (Sndctl.Provisioning.Testing), run against each database users meet.</summary>
public abstract class StoreTests<TDatabase>
    where TDatabase : ITestDatabase, new()
{
    [Theory]
    [MemberData(nameof(StoreChecks.All), MemberType = typeof(StoreChecks))]
    public async Task Store_contract(string check)
    {
        await using var database = new TDatabase();
        await using var services = database.Services();

        Assert.True(await new StoreContract(services.CreateAsyncScope).RunAsync(check, TestContext.Current.CancellationToken), $"{check}: a store is not registered");
    }

    [Fact]
    public void Every_store_is_checked()
    {
        var checkedStores = StoreContract.Checks.SelectMany(StoreContract.StoresOf).ToHashSet();
        Assert.All(Core.ProvisioningStores.All, store => Assert.Contains(store, checkedStores));
    }
}

public static class StoreChecks
{
    public static TheoryData<string> All => new(StoreContract.Checks);
}

public sealed class SqliteStoreTests : StoreTests<SqliteFileDatabase>;

public sealed class SqliteGatedStoreTests : StoreTests<SqliteGatedFileDatabase>;

public sealed class PostgreSqlStoreTests : StoreTests<PostgreSqlDatabase>;
