using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Storage.EfCore.Internal;

namespace Sndctl.Provisioning.Storage.EfCore.Tests;

/// <summary>
/// The device counts the database keeps (triggers, <see cref="DeviceCounts"/>): after every kind of write (the stores,
/// EF's bulk statements, raw SQL) and every compaction they equal a count of the devices table.
/// </summary>
public abstract class DeviceCountsTests<TDatabase>
    where TDatabase : ITestDatabase, new()
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_counts_follow_every_write_and_survive_compaction()
    {
        await using var database = new TDatabase();
        await using var services = database.Services();
        var ct = TestContext.Current.CancellationToken;

        await using (var scope = services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IDeviceStore>();
            await store.CreateAsync([.. Enumerable.Range(0, 300).Select(i => NewDevice($"d{i:D3}"))], ct);

            // Through the store: a whole-device update (status and resolution), a delete.
            var device = (await store.FindAsync("d001", ct))!;
            device.Status = DeviceStatus.Active;
            device.NameResolution = DeviceNameResolution.Ok;
            await store.UpdateAsync(device, ct);
            var touched = (await store.FindAsync("d002", ct))!;
            touched.LastSeenAt = s_now;
            await store.UpdateAsync(touched, ct);
            Assert.True(await store.DeleteAsync("d003", ct));
        }

        await using (var context = database.CreateContext())
        {
            // Bulk statements the store's code never wrote: the database counts them too.
            var devices = context.Set<Device>();
            await devices.Where(d => string.Compare(d.DeviceId, "d100") >= 0 && string.Compare(d.DeviceId, "d150") < 0)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, DeviceStatus.Disabled).SetProperty(d => d.SecretOrigin, DeviceSecretOrigin.Device), ct);
            await devices.Where(d => string.Compare(d.DeviceId, "d290") >= 0).ExecuteDeleteAsync(ct);
            await devices.Where(d => d.DeviceId == "d010").ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, DeviceStatus.Pending), ct); // unchanged
        }

        await AssertCountsAsync(database, services, ct);

        await using (var context = database.CreateContext())
        {
            // 300 inserts and the changes since: folded into one row per cell, the marker kept; nothing to fold after.
            Assert.True(await DeviceCounts.CompactAsync(context, ct) >= 300);
            Assert.InRange(await context.Set<DeviceCountEntry>().CountAsync(ct), 2, 10);
            Assert.Equal(0, await DeviceCounts.CompactAsync(context, ct));

            // What the job does after a large fold (PostgreSQL: the folded rows' space; nothing on SQLite).
            await DeviceCounts.VacuumAsync(context, ct);
        }

        await AssertCountsAsync(database, services, ct);

        await using (var context = database.CreateContext())
        {
            var devices = context.Set<Device>();
            await devices.Where(d => d.Status == DeviceStatus.Disabled).ExecuteDeleteAsync(ct);
            await devices.Where(d => d.DeviceId == "d020").ExecuteUpdateAsync(u => u.SetProperty(d => d.NameResolution, DeviceNameResolution.Other), ct);
        }

        await AssertCountsAsync(database, services, ct);
    }

    [Fact]
    public async Task Devices_there_before_the_counts_were_installed_are_counted_and_uninstalling_falls_back_to_counting()
    {
        await using var database = new TDatabase();
        await using var services = database.Services();
        var ct = TestContext.Current.CancellationToken;
        await using (var context = database.CreateContext())
        {
            foreach (var statement in DeviceCounts.Uninstall(context.Model, context.Database.ProviderName!))
            {
                await context.Database.ExecuteSqlRawAsync(statement, ct);
            }

            Assert.Null(await DeviceCounts.ReadAsync(context, ct));
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var devices = Enumerable.Range(0, 40).Select(i => NewDevice($"e{i:D2}")).ToList();
            devices[0].Status = DeviceStatus.Active;
            devices[1].NameResolution = DeviceNameResolution.Blocked;
            await scope.ServiceProvider.GetRequiredService<IDeviceStore>().CreateAsync(devices, ct);
        }

        await AssertCountsAsync(database, services, ct);
        await using (var context = database.CreateContext())
        {
            TestDatabase.KeepDeviceCounts(context);
            var cells = await DeviceCounts.ReadAsync(context, ct);
            Assert.Equal(40, cells!.Sum(c => c.Count));
        }

        await AssertCountsAsync(database, services, ct);
    }

    /// <summary>Every count the store answers from the kept counts equals a count of the devices table.</summary>
    private static async Task AssertCountsAsync(TDatabase database, ServiceProvider services, CancellationToken ct)
    {
        await using var context = database.CreateContext();
        var devices = context.Set<Device>().AsNoTracking();
        await using var scope = services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IDeviceStore>();

        var byStatus = await store.CountByStatusAsync(ct);
        foreach (var status in Enum.GetValues<DeviceStatus>())
        {
            Assert.Equal(await devices.CountAsync(d => d.Status == status, ct), byStatus[status]);
            Assert.Equal(await devices.CountAsync(d => d.Status == status, ct), await store.CountAsync(new DeviceQuery(status), ct));
        }

        var byResolution = await store.CountByNameResolutionAsync(ct);
        foreach (var resolution in Enum.GetValues<DeviceNameResolution>())
        {
            Assert.Equal(await devices.CountAsync(d => d.NameResolution == resolution, ct), byResolution[resolution]);
            Assert.Equal(
                await devices.CountAsync(d => d.NameResolution == resolution && d.Status == DeviceStatus.Pending && d.SecretOrigin == DeviceSecretOrigin.Factory, ct),
                await store.CountAsync(new DeviceQuery(DeviceStatus.Pending) { NameResolution = resolution, FactorySecret = true }, ct));
        }

        Assert.Equal(await devices.CountAsync(ct), await store.CountAsync(new DeviceQuery(), ct));
        Assert.Equal(await devices.CountAsync(d => d.SecretOrigin != DeviceSecretOrigin.Factory, ct), await store.CountAsync(new DeviceQuery { FactorySecret = false }, ct));
        Assert.Equal(await devices.CountAsync(d => d.DeviceId.StartsWith("d1"), ct), await store.CountAsync(new DeviceQuery(Search: "d1"), ct));
        Assert.Equal(await devices.CountAsync(ct), (await store.ListAsync(new DeviceQuery(PageSize: 1), ct)).Total);
    }

    private static Device NewDevice(string id) => new()
    {
        DeviceId = id,
        Hostname = id + ".devices.example.com",
        SecretHash = new byte[32],
        CreatedAt = s_now,
        Labels = new Dictionary<string, string>(StringComparer.Ordinal),
    };
}

public sealed class SqliteGatedDeviceCountsTests : DeviceCountsTests<SqliteGatedFileDatabase>;

public sealed class PostgreSqlDeviceCountsTests : DeviceCountsTests<PostgreSqlDatabase>
{
    [Fact]
    public async Task Concurrent_writers_of_many_cells_never_wait_for_each_other_into_a_deadlock()
    {
        await using var database = new PostgreSqlDatabase();
        await using var services = database.Services();
        var ct = TestContext.Current.CancellationToken;
        const int Writers = 8;
        await using (var scope = services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IDeviceStore>().CreateAsync(
                [.. Enumerable.Range(0, Writers * 20).Select(i => new Device { DeviceId = $"w{i:D3}", Hostname = $"w{i:D3}.devices.example.com", SecretHash = new byte[32], CreatedAt = DateTimeOffset.UtcNow })],
                ct);
        }

        // Each writer moves all devices through cells in its own order, in transactions of many devices each (a lock per
        // counter row would deadlock here); a compaction runs between them.
        var statuses = Enum.GetValues<DeviceStatus>();
        var resolutions = Enum.GetValues<DeviceNameResolution>();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(
            async () =>
            {
                for (var round = 0; round < 15; round++)
                {
                    await using var context = database.CreateContext();
                    await using var transaction = await context.Database.BeginTransactionAsync(ct);
                    var ids = Enumerable.Range(0, 20).Select(i => $"w{((w * 20) + ((i * (round + 1)) % 20)):D3}").Distinct().ToList();
                    foreach (var id in w % 2 == 0 ? ids : Enumerable.Reverse(ids))
                    {
                        var status = statuses[(round + w) % statuses.Length];
                        var resolution = resolutions[(round * 3 + w) % resolutions.Length];
                        await context.Set<Device>().Where(d => d.DeviceId == id)
                            .ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, status).SetProperty(d => d.NameResolution, resolution), ct);
                    }

                    await transaction.CommitAsync(ct);
                }
            },
            ct)).ToList();
        var compactions = Task.Run(
            async () =>
            {
                while (!writers.All(w => w.IsCompleted))
                {
                    await using var context = database.CreateContext();
                    await DeviceCounts.CompactAsync(context, ct);
                    await Task.Delay(20, ct);
                }
            },
            ct);
        await Task.WhenAll([.. writers, compactions]);

        await using (var context = database.CreateContext())
        {
            await DeviceCounts.CompactAsync(context, ct);
            var cells = (await DeviceCounts.ReadAsync(context, ct))!;
            var devices = context.Set<Device>().AsNoTracking();
            Assert.Equal(Writers * 20, cells.Sum(c => c.Count));
            foreach (var status in statuses)
            {
                Assert.Equal(await devices.CountAsync(d => d.Status == status, ct), cells.Where(c => c.Status == status).Sum(c => c.Count));
            }

            foreach (var resolution in resolutions)
            {
                Assert.Equal(await devices.CountAsync(d => d.NameResolution == resolution, ct), cells.Where(c => c.NameResolution == resolution).Sum(c => c.Count));
            }
        }
    }
}
