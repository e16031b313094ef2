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
    public async Task A_filter_without_an_index_in_the_sort_s_order_pages_the_same_whether_it_matches_few_or_many_devices()
    {
        await using var database = new TDatabase();
        await using var services = database.Services();
        var ct = TestContext.Current.CancellationToken;
        var created = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

        // 2,100 devices with the factory secret (more than the store reads through a filter's own index), 3 that
        // resolved their name fine; statuses in turn.
        var devices = Enumerable.Range(0, 2_100).Select(i => new Device
        {
            DeviceId = $"d{i:0000}",
            Hostname = $"d{i:0000}.devices.example.com",
            SecretHash = new byte[32],
            CreatedAt = created.AddSeconds(i),
            Status = (DeviceStatus)(i % 3),
            NameResolution = i % 700 == 0 ? DeviceNameResolution.Ok : DeviceNameResolution.Unknown,
            SecretOrigin = i >= 2_050 ? DeviceSecretOrigin.Device : DeviceSecretOrigin.Factory,
            LastSeenAt = i % 2 == 0 ? created.AddMinutes(i) : null,
            CurrentCertificateNotAfter = i % 4 == 0 ? created.AddDays(90).AddMinutes(-i) : null,
        }).ToList();
        await using (var scope = services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IDeviceStore>().CreateAsync(devices, ct);
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IDeviceStore>();
            async Task<string[]> Page(DeviceQuery query) => [.. (await store.ListAsync(query with { PageSize = 4 }, ct)).Items.Select(d => d.DeviceId)];
            IEnumerable<Device> Expected(Func<Device, bool> filter, Func<IEnumerable<Device>, IEnumerable<Device>> order) => order(devices.Where(filter)).Take(4);

            // Many: read in the sort's order and tested one by one.
            Assert.Equal(
                Expected(d => d.SecretOrigin == DeviceSecretOrigin.Factory, all => all.OrderByDescending(d => d.DeviceId, StringComparer.Ordinal)).Select(d => d.DeviceId),
                await Page(new DeviceQuery(Sort: DeviceSort.DeviceId, Descending: true) { FactorySecret = true }));
            Assert.Equal(
                Expected(d => d.NameResolution == DeviceNameResolution.Unknown, all => all.Where(d => d.LastSeenAt is not null).OrderByDescending(d => d.LastSeenAt)).Select(d => d.DeviceId),
                await Page(new DeviceQuery(Sort: DeviceSort.LastSeen, Descending: true) { NameResolution = DeviceNameResolution.Unknown }));
            Assert.Equal(
                Expected(d => d.NameResolution == DeviceNameResolution.Unknown, all => all.OrderBy(d => d.Status.ToString(), StringComparer.Ordinal).ThenBy(d => d.DeviceId, StringComparer.Ordinal)).Select(d => d.DeviceId),
                await Page(new DeviceQuery(Sort: DeviceSort.Status, Descending: false) { NameResolution = DeviceNameResolution.Unknown }));

            // One status by last seen or expiry, devices without a value last (the active ones read in the sort's index,
            // the others through the partial indexes of devices that are not active), page after page.
            foreach (var status in Enum.GetValues<DeviceStatus>())
            {
                foreach (var (sort, key) in new (DeviceSort, Func<Device, DateTimeOffset?>)[] { (DeviceSort.LastSeen, d => d.LastSeenAt), (DeviceSort.Expiry, d => d.CurrentCertificateNotAfter) })
                {
                    foreach (var descending in new[] { true, false })
                    {
                        var matching = devices.Where(d => d.Status == status).ToList();
                        var valued = matching.Where(d => key(d) is not null);
                        var expected = (descending ? valued.OrderByDescending(key) : valued.OrderBy(key)).ThenBy(d => d.DeviceId, StringComparer.Ordinal)
                            .Concat(matching.Where(d => key(d) is null).OrderBy(d => d.DeviceId, StringComparer.Ordinal))
                            .Select(d => d.DeviceId).ToList();
                        foreach (var page in new[] { 1, 2, 88, 89, 176 })
                        {
                            Assert.Equal(
                                expected.Skip((page - 1) * 4).Take(4),
                                (await store.ListAsync(new DeviceQuery(status, Page: page, PageSize: 4, Sort: sort, Descending: descending), ct)).Items.Select(d => d.DeviceId));
                        }
                    }
                }
            }

            // Few: found through the filter's index, then ordered.
            Assert.Equal(["d1400", "d0700", "d0000"], await Page(new DeviceQuery(Sort: DeviceSort.DeviceId, Descending: true) { NameResolution = DeviceNameResolution.Ok }));
            Assert.Equal(["d1400", "d0700", "d0000"], await Page(new DeviceQuery(Sort: DeviceSort.LastSeen, Descending: true) { NameResolution = DeviceNameResolution.Ok }));
            Assert.Equal(["d0700", "d1400", "d0000"], await Page(new DeviceQuery(Sort: DeviceSort.Status, Descending: false) { NameResolution = DeviceNameResolution.Ok }));
            Assert.Empty(await Page(new DeviceQuery(Sort: DeviceSort.Status) { NameResolution = DeviceNameResolution.Blocked }));

            // A replaced secret (the partial indexes of devices outside a new device's cell), in every order, page after page.
            var replaced = devices.Where(d => d.SecretOrigin == DeviceSecretOrigin.Device).ToList();
            foreach (var (sort, descending, expected) in new (DeviceSort, bool, IEnumerable<Device>)[]
            {
                (DeviceSort.DeviceId, true, replaced.OrderByDescending(d => d.DeviceId, StringComparer.Ordinal)),
                (DeviceSort.Status, false, replaced.OrderBy(d => d.Status.ToString(), StringComparer.Ordinal).ThenBy(d => d.DeviceId, StringComparer.Ordinal)),
                (DeviceSort.Status, true, replaced.OrderByDescending(d => d.Status.ToString(), StringComparer.Ordinal).ThenByDescending(d => d.DeviceId, StringComparer.Ordinal)),
                (DeviceSort.LastSeen, true, replaced.Where(d => d.LastSeenAt is not null).OrderByDescending(d => d.LastSeenAt).Concat(replaced.Where(d => d.LastSeenAt is null).OrderBy(d => d.DeviceId, StringComparer.Ordinal))),
                (DeviceSort.Expiry, false, replaced.Where(d => d.CurrentCertificateNotAfter is not null).OrderBy(d => d.CurrentCertificateNotAfter).Concat(replaced.Where(d => d.CurrentCertificateNotAfter is null).OrderBy(d => d.DeviceId, StringComparer.Ordinal))),
            })
            {
                for (var page = 1; page <= 13; page++)
                {
                    Assert.Equal(
                        expected.Skip((page - 1) * 4).Take(4).Select(d => d.DeviceId),
                        (await store.ListAsync(new DeviceQuery(Page: page, PageSize: 4, Sort: sort, Descending: descending) { FactorySecret = false }, ct)).Items.Select(d => d.DeviceId));
                }
            }

            Assert.Equal(50, (await store.ListAsync(new DeviceQuery { FactorySecret = false }, ct)).Total);
            Assert.Equal(3, (await store.ListAsync(new DeviceQuery(Sort: DeviceSort.Expiry) { NameResolution = DeviceNameResolution.Ok }, ct)).Total);
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
