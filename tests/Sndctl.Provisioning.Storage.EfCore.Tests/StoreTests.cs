using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;
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
    public async Task Another_instance_reads_the_names_this_one_changed_from_the_zone_change_log()
    {
        await using var database = new TDatabase();
        await using var first = database.Services();
        await using var second = database.Services();
        var ct = TestContext.Current.CancellationToken;
        string[] addressTypes = ["A", "AAAA"];
        static ZoneRecord Record(string name, string type, string value) => new() { Name = name, Type = type, Value = value, CreatedAt = DateTimeOffset.UtcNow };

        long start;
        await using (var scope = second.CreateAsyncScope())
        {
            start = (await scope.ServiceProvider.GetRequiredService<IZoneRecordStore>().GetLastChangeAsync(ct))!.Value;
        }

        long txt;
        await using (var scope = first.CreateAsyncScope())
        {
            var zone = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
            await zone.ReplaceManyAsync(
                [("a.devices.example.com", [Record("a.devices.example.com", "A", "10.0.0.1")]), ("b.devices.example.com", [Record("b.devices.example.com", "AAAA", "fd00::2")])],
                addressTypes,
                ct);
            txt = await zone.AddAsync(Record("_acme-challenge.c.devices.example.com", "TXT", "token"), ct);
        }

        await using (var scope = second.CreateAsyncScope())
        {
            var zone = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
            var changes = await zone.ListChangesAsync(start, 100, ct);
            Assert.Equal(["_acme-challenge.c.devices.example.com", "a.devices.example.com", "b.devices.example.com"], changes.Names.Order(StringComparer.Ordinal));
            Assert.False(changes.More);

            // The second instance's own change: the first reads it, the second only moves past it.
            Assert.True(await zone.RemoveAsync(txt, ct));
            var own = await zone.ListChangesAsync(changes.Last, 100, ct);
            Assert.Empty(own.Names);
            Assert.True(own.Last > changes.Last);
        }

        await using (var scope = first.CreateAsyncScope())
        {
            var changes = await scope.ServiceProvider.GetRequiredService<IZoneRecordStore>().ListChangesAsync(start, 100, ct);
            Assert.Equal(["_acme-challenge.c.devices.example.com"], changes.Names);
        }
    }

    [Fact]
    public async Task A_zone_change_that_commits_later_never_lands_below_a_position_already_read()
    {
        await using var database = new TDatabase();
        await using var first = database.Services();
        await using var second = database.Services();
        await using var reader = database.Services();
        var ct = TestContext.Current.CancellationToken;
        static ZoneRecord Record(string name) => new() { Name = name, Type = "TXT", Value = "token", CreatedAt = DateTimeOffset.UtcNow };

        // The first instance's change is written (its log position drawn) in a transaction still open; the second
        // instance's change comes after. Until the first commits, a reader sees neither: had the second committed
        // first, a reader would move past the first's position and never read it.
        await using var slowScope = first.CreateAsyncScope();
        var context = slowScope.ServiceProvider.GetRequiredService<TestDbContext>();
        var transaction = await context.Database.BeginTransactionAsync(ct);
        await slowScope.ServiceProvider.GetRequiredService<IZoneRecordStore>().AddAsync(Record("slow.devices.example.com"), ct);

        var fast = Task.Run(
            async () =>
            {
                await using var scope = second.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<IZoneRecordStore>().AddAsync(Record("fast.devices.example.com"), ct);
            },
            ct);
        await Task.WhenAny(fast, Task.Delay(500, ct));

        await using (var scope = reader.CreateAsyncScope())
        {
            var seen = await scope.ServiceProvider.GetRequiredService<IZoneRecordStore>().ListChangesAsync(0, 100, ct);
            Assert.Empty(seen.Names);
            Assert.Equal(0, seen.Last);
        }

        await transaction.CommitAsync(ct);
        await transaction.DisposeAsync();
        await fast;
        await using (var scope = reader.CreateAsyncScope())
        {
            var zone = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
            var first1 = await zone.ListChangesAsync(0, 1, ct);
            Assert.Equal(["slow.devices.example.com"], first1.Names);
            Assert.Equal(["fast.devices.example.com"], (await zone.ListChangesAsync(first1.Last, 100, ct)).Names);
        }
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
