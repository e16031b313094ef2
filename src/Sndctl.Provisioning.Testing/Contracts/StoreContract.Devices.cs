using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing.Contracts;

public sealed partial class StoreContract
{
    [Check(typeof(IDeviceStore))]
    private async Task Device_create_find_update_round_trips_every_field(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            await context.Devices.CreateAsync([NewDevice("dev-1")], default);
        }

        await using (var context = Session())
        {
            var store = context.Devices;
            var device = (await store.FindAsync("dev-1", default))!;
            Assert.Equal("dev-1.devices.example.com", device.Hostname);
            Assert.Equal("berlin", device.Labels["site"]);
            Assert.Equal(s_now, device.CreatedAt);
            Assert.Equal(DeviceStatus.Pending, device.Status);
            device.Status = DeviceStatus.Active;
            device.RegisteredAt = s_now.AddMinutes(1);
            device.CurrentCertificateId = Guid.NewGuid();
            device.CurrentCertificateNotAfter = s_now.AddDays(90);
            await store.UpdateAsync(device, default);
            await store.UpdateAsync(device, default);
        }

        await using (var context = Session())
        {
            var device = (await context.Devices.FindAsync("dev-1", default))!;
            Assert.Equal(DeviceStatus.Active, device.Status);
            Assert.Equal(s_now.AddMinutes(1), device.RegisteredAt);
            Assert.NotNull(device.CurrentCertificateId);
            Assert.Equal(s_now.AddDays(90), device.CurrentCertificateNotAfter);
            Assert.Null(await context.Devices.FindAsync("dev-2", default));
        }
    }

    [Check(typeof(IDeviceStore))]
    private async Task Device_duplicate_throws_and_batch_is_all_or_nothing(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var store = context.Devices;
        await store.CreateAsync([NewDevice("dup")], default);
        await Assert.ThrowsAsync<DuplicateDeviceException>(() => store.CreateAsync([NewDevice("dup")], default));
        await Assert.ThrowsAsync<DuplicateDeviceException>(() => store.CreateAsync([NewDevice("new-1"), NewDevice("dup"), NewDevice("new-2")], default));
        Assert.Null(await store.FindAsync("new-1", default));
        Assert.Null(await store.FindAsync("new-2", default));
    }

    [Check(typeof(IDeviceStore))]
    private async Task Device_concurrent_writers_second_gets_conflict(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            await context.Devices.CreateAsync([NewDevice("race")], default);
        }

        await using var first = Session();
        await using var second = Session();
        var a = (await first.Devices.FindAsync("race", default))!;
        var b = (await second.Devices.FindAsync("race", default))!;
        a.Status = DeviceStatus.Disabled;
        await first.Devices.UpdateAsync(a, default);
        b.LastSeenAt = s_now;
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => second.Devices.UpdateAsync(b, default));

        await using var check = Session();
        Assert.Equal(DeviceStatus.Disabled, (await check.Devices.FindAsync("race", default))!.Status);
    }

    [Check(typeof(IDeviceStore), typeof(ICertificateStore))]
    private async Task Device_delete_removes_certificates_too(CancellationToken cancellationToken)
    {
        await using var context = Session();
        await context.Devices.CreateAsync([NewDevice("gone")], default);
        var certificates = context.Certificates;
        await certificates.AddAsync(NewCertificate("gone", s_now.AddDays(60)), default);

        Assert.True(await context.Devices.DeleteAsync("gone", default));
        Assert.False(await context.Devices.DeleteAsync("gone", default));
        Assert.Empty(await certificates.ListByDeviceAsync("gone", default));
    }

    [Check(typeof(IDeviceStore))]
    private async Task Device_list_filters_pages_and_counts(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var store = context.Devices;
        var devices = Enumerable.Range(0, 25).Select(i => NewDevice($"d{i:00}", s_now.AddMinutes(i))).ToList();
        devices[3].Status = DeviceStatus.Disabled;
        devices[4].Status = DeviceStatus.Active;
        await store.CreateAsync(devices, default);

        var first = await store.ListAsync(new DeviceQuery(PageSize: 10), default);
        Assert.Equal(25, first.Total);
        Assert.Equal("d24", first.Items[0].DeviceId);
        var last = await store.ListAsync(new DeviceQuery(Page: 3, PageSize: 10), default);
        Assert.Equal(5, last.Items.Count);
        Assert.Equal("d03", Assert.Single((await store.ListAsync(new DeviceQuery(DeviceStatus.Disabled), default)).Items).DeviceId);
        Assert.Equal(10, (await store.ListAsync(new DeviceQuery(Search: "D1"), default)).Total);

        // Counted apart (the admin listing keeps a large fleet's count for a while): the same figures, whatever page.
        Assert.Equal(25, await store.CountAsync(new DeviceQuery(Page: 3, PageSize: 10), default));
        Assert.Equal(1, await store.CountAsync(new DeviceQuery(DeviceStatus.Disabled), default));
        Assert.Equal(10, await store.CountAsync(new DeviceQuery(Search: "D1"), default));
        var uncounted = await store.ListAsync(new DeviceQuery(Page: 3, PageSize: 10) { CountTotal = false }, default);
        Assert.Equal(["d04", "d03", "d02", "d01", "d00"], uncounted.Items.Select(d => d.DeviceId));
        Assert.True(uncounted.Total is -1 or 25, "a listing without its count has the total -1 (or the count)");

        var counts = await store.CountByStatusAsync(default);
        Assert.Equal(23, counts[DeviceStatus.Pending]);
        Assert.Equal(1, counts[DeviceStatus.Active]);
        Assert.Equal(1, counts[DeviceStatus.Disabled]);
    }

    [Check(typeof(IDeviceStore), typeof(ICertificateStore))]
    private async Task Device_list_sorts_by_id_status_last_seen_and_certificate_expiry(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            var devices = new[] { NewDevice("b"), NewDevice("a"), NewDevice("c"), NewDevice("d") };
            devices[0].Status = DeviceStatus.Active;
            devices[1].Status = DeviceStatus.Disabled;
            devices[0].LastSeenAt = s_now.AddHours(2);
            devices[2].LastSeenAt = s_now.AddHours(1);
            await context.Devices.CreateAsync(devices, default);
        }

        await using (var context = Session())
        {
            var certificates = context.Certificates;
            var soon = NewCertificate("c", s_now.AddDays(5));
            var later = NewCertificate("b", s_now.AddDays(50));
            await certificates.AddAsync(soon, default);
            await certificates.AddAsync(later, default);
            var store = context.Devices;
            foreach (var (id, certificate) in new[] { ("c", soon), ("b", later) })
            {
                var device = (await store.FindAsync(id, default))!;
                device.CurrentCertificateId = certificate.Id;
                device.CurrentCertificateNotAfter = certificate.NotAfter;
                await store.UpdateAsync(device, default);
            }
        }

        await using (var context = Session())
        {
            var store = context.Devices;
            async Task<string> Order(DeviceSort sort, bool descending)
                => string.Concat((await store.ListAsync(new DeviceQuery(Sort: sort, Descending: descending), default)).Items.Select(d => d.DeviceId));

            Assert.Equal("abcd", await Order(DeviceSort.DeviceId, false));
            Assert.Equal("dcba", await Order(DeviceSort.DeviceId, true));
            Assert.Equal("bacd", await Order(DeviceSort.Status, false)); // active, disabled, pending (by name)
            Assert.Equal("dcab", await Order(DeviceSort.Status, true)); // pending (ties by ID, descending too), disabled, active
            Assert.Equal("bcad", await Order(DeviceSort.LastSeen, true)); // never-seen last
            Assert.Equal("cbad", await Order(DeviceSort.Expiry, false)); // soonest first, no certificate last
            Assert.Equal("bcad", await Order(DeviceSort.Expiry, true));

            // Page by page, also where a page holds the last devices with a value and the first without.
            foreach (var (sort, descending) in new[] { (DeviceSort.Expiry, false), (DeviceSort.Expiry, true), (DeviceSort.LastSeen, true), (DeviceSort.LastSeen, false), (DeviceSort.Status, false), (DeviceSort.Status, true) })
            {
                foreach (var pageSize in new[] { 1, 3 })
                {
                    var paged = "";
                    for (var page = 1; page <= 5; page++)
                    {
                        var items = await store.ListAsync(new DeviceQuery(Page: page, PageSize: pageSize, Sort: sort, Descending: descending), default);
                        Assert.Equal(4, items.Total);
                        paged += string.Concat(items.Items.Select(d => d.DeviceId));
                    }

                    Assert.Equal(await Order(sort, descending), paged);
                }
            }
        }
    }

    [Check(typeof(IDeviceStore), typeof(ICertificateStore))]
    private async Task Certificates_history_newest_first_find_many_revoke_and_expiring_count(CancellationToken cancellationToken)
    {
        await using var context = Session();
        await context.Devices.CreateAsync([NewDevice("c1"), NewDevice("c2")], default);
        var store = context.Certificates;
        var old = NewCertificate("c1", s_now.AddDays(5), s_now.AddDays(-85));
        var current = NewCertificate("c1", s_now.AddDays(20), s_now.AddDays(-70));
        current = new DeviceCertificate
        {
            Id = current.Id, DeviceId = current.DeviceId, Issuer = "Acme", SerialNumber = current.SerialNumber, Thumbprint = current.Thumbprint,
            CertificatePem = current.CertificatePem, NotBefore = current.NotBefore, NotAfter = current.NotAfter, RenewAfter = current.RenewAfter, IssuedAt = current.IssuedAt,
            CertificateAuthority = "https://acme.zerossl.com/v2/DV90",
        };
        var other = NewCertificate("c2", s_now.AddDays(3));
        foreach (var certificate in new[] { old, current, other })
        {
            await store.AddAsync(certificate, default);
        }

        foreach (var (id, certificate) in new[] { ("c1", current), ("c2", other) })
        {
            var device = (await context.Devices.FindAsync(id, default))!;
            device.CurrentCertificateId = certificate.Id;
            device.CurrentCertificateNotAfter = certificate.NotAfter;
            await context.Devices.UpdateAsync(device, default);
        }

        var history = await store.ListByDeviceAsync("c1", default);
        Assert.Equal([current.Id, old.Id], history.Select(c => c.Id));
        Assert.Equal(["https://acme.zerossl.com/v2/DV90", null], history.Select(c => c.CertificateAuthority)); // which CA issued it, when the issuer has several
        Assert.Equal(2, (await store.FindManyAsync([current.Id, other.Id, Guid.NewGuid()], default)).Count);

        // Only current certificates count: the old one expires in 5 days but was replaced.
        Assert.Equal(1, await store.CountCurrentExpiringAsync(s_now.AddDays(7), default));
        Assert.Equal(2, await store.CountCurrentExpiringAsync(s_now.AddDays(30), default));
        // Renewal times (30 days before expiry here): c2's came 27 days ago, c1's current one 10 days ago; the
        // replaced one (25 days ago) does not count.
        Assert.Equal(1, await store.CountCurrentRenewalDueAsync(s_now.AddDays(-20), default));
        Assert.Equal(2, await store.CountCurrentRenewalDueAsync(s_now.AddDays(7), default));

        var loaded = (await store.FindAsync(other.Id, default))!;
        loaded.RevokedAt = s_now;
        await store.UpdateAsync(loaded, default);
        Assert.Equal(s_now, (await store.FindAsync(other.Id, default))!.RevokedAt);
        Assert.Equal(1, await store.CountCurrentExpiringAsync(s_now.AddDays(30), default));

        // A revoked certificate that is no device's current one takes nothing away.
        var replaced = (await store.FindAsync(old.Id, default))!;
        replaced.RevokedAt = s_now;
        await store.UpdateAsync(replaced, default);
        Assert.Equal(0, await store.CountCurrentExpiringAsync(s_now.AddDays(7), default));
        Assert.Equal(1, await store.CountCurrentExpiringAsync(s_now.AddDays(30), default));
    }

    [Check(typeof(IDeviceStore), typeof(ICertificateStore))]
    private async Task Certificates_early_reissues_and_revocation_list_kept_across_device_deletion(CancellationToken cancellationToken)
    {
        await using var context = Session();
        await context.Devices.CreateAsync([NewDevice("early")], default);
        var certificates = context.Certificates;
        var normal = NewCertificate("early", s_now.AddDays(90), s_now.AddDays(-3));
        var old = new DeviceCertificate { DeviceId = "early", Issuer = "Test", SerialNumber = "0A", Thumbprint = "T", CertificatePem = "P", NotAfter = s_now.AddDays(80), IssuedAt = s_now.AddDays(-10), EarlyReissue = true };
        var recent = new DeviceCertificate { DeviceId = "early", Issuer = "Test", SerialNumber = "0B", Thumbprint = "T", CertificatePem = "P", NotAfter = s_now.AddDays(90), IssuedAt = s_now.AddDays(-1), EarlyReissue = true, RevokedAt = s_now };
        var expired = new DeviceCertificate { DeviceId = "early", Issuer = "Test", SerialNumber = "0C", Thumbprint = "T", CertificatePem = "P", NotAfter = s_now.AddDays(-1), IssuedAt = s_now.AddDays(-91), RevokedAt = s_now.AddDays(-30) };
        foreach (var certificate in new[] { normal, old, recent, expired })
        {
            await certificates.AddAsync(certificate, default);
        }

        Assert.Equal([s_now.AddDays(-1)], await certificates.ListEarlyReissuesAsync("early", s_now.AddDays(-7), default));
        Assert.Equal(2, (await certificates.ListEarlyReissuesAsync("early", s_now.AddDays(-30), default)).Count);
        Assert.Equal([("0B", s_now)], await certificates.ListRevokedAsync("Test", s_now, default));

        Assert.True(await context.Devices.DeleteAsync("early", default));
        Assert.Equal([("0B", s_now)], await certificates.ListRevokedAsync("Test", s_now, default));
        Assert.Empty(await certificates.ListRevokedAsync("Other", s_now, default));
    }

    [Check(typeof(IDeviceStore), typeof(ICertificateStore))]
    private async Task Renewals_due_are_the_current_server_key_certificates_of_active_devices_seen_lately(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var certificates = context.Certificates;
        var store = context.Devices;
        string[] ids = ["due", "seen-long-ago", "own-key", "not-yet", "disabled"];
        await store.CreateAsync([.. ids.Select(id => NewDevice(id))], default);
        foreach (var id in ids)
        {
            var certificate = NewCertificate(id, s_now.AddDays(20), s_now.AddDays(-70), renewAfter: id == "not-yet" ? s_now.AddDays(5) : s_now.AddDays(-1), protectedKey: id == "own-key" ? null : "protected");
            await certificates.AddAsync(certificate, default);
            var device = (await store.FindAsync(id, default))!;
            device.CurrentCertificateId = certificate.Id;
            device.CurrentCertificateNotAfter = certificate.NotAfter;
            device.Status = id == "disabled" ? DeviceStatus.Disabled : DeviceStatus.Active;
            device.LastSeenAt = id == "seen-long-ago" ? s_now.AddDays(-40) : s_now.AddDays(-2);
            await store.UpdateAsync(device, default);
        }

        var due = await certificates.ListRenewalDueAsync(s_now, s_now.AddDays(-30), 10, default);
        Assert.Equal(["due"], due.Select(c => c.DeviceId));

        // Not yet due: the one the CA may move earlier (ARI); moving it makes it due.
        var notDue = Assert.Single(await certificates.ListCurrentNotDueAsync("Test", s_now, null, 10, default));
        Assert.Equal("not-yet", notDue.DeviceId);
        Assert.Empty(await certificates.ListCurrentNotDueAsync("Test", s_now, (notDue.NotAfter, notDue.DeviceId), 10, default));
        Assert.Single(await certificates.ListCurrentNotDueAsync("Test", s_now, (notDue.NotAfter, "a"), 10, default)); // same end, a device ID before it
        Assert.Single(await certificates.ListCurrentNotDueAsync("Test", s_now, (notDue.NotAfter.AddSeconds(-1), "zzz"), 10, default));
        Assert.Empty(await certificates.ListCurrentNotDueAsync("Other", s_now, null, 10, default));
        await certificates.SetRenewAfterAsync(notDue.Id, s_now.AddHours(-1), default);
        Assert.Equal(s_now.AddHours(-1), (await certificates.FindAsync(notDue.Id, default))!.RenewAfter);
        Assert.Empty(await certificates.ListCurrentNotDueAsync("Test", s_now, null, 10, default));
    }

    [Check(typeof(IDeviceStore))]
    private async Task Device_addresses_round_trip_in_order_and_pending_ones_are_listed(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            var withAddresses = NewDevice("dev-a");
            withAddresses.Addresses = [System.Net.IPAddress.Parse("192.168.1.23"), System.Net.IPAddress.Parse("fd00::23")];
            withAddresses.AddressRecordsPending = true;
            await context.Devices.CreateAsync([withAddresses, NewDevice("dev-b")], default);
        }

        await using (var context = Session())
        {
            var store = context.Devices;
            var device = (await store.FindAsync("dev-a", default))!;
            Assert.Equal(["192.168.1.23", "fd00::23"], device.Addresses.Select(a => a.ToString()));
            Assert.Empty((await store.FindAsync("dev-b", default))!.Addresses);
            Assert.Equal(["dev-a"], (await store.ListAddressRecordsPendingAsync(10, default)).Select(d => d.DeviceId));

            device.Addresses = [];
            device.AddressRecordsPending = false;
            await store.UpdateAsync(device, default);
            Assert.Empty((await store.FindAsync("dev-a", default))!.Addresses);
            Assert.Empty(await store.ListAddressRecordsPendingAsync(10, default));
        }
    }

    [Check(typeof(IDeviceStore))]
    private async Task Device_address_update_writes_the_set_its_flag_and_allowance_and_refuses_a_stale_row(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            await context.Devices.CreateAsync([NewDevice("dev-a")], default);
        }

        await using (var context = Session())
        {
            var store = context.Devices;
            var device = (await store.FindAsync("dev-a", default))!;
            var stale = (await store.FindAsync("dev-a", default))!;
            var read = device.ConcurrencyStamp;
            device.Addresses = [System.Net.IPAddress.Parse("10.0.0.7"), System.Net.IPAddress.Parse("fd00::7")];
            device.AddressRecordsPending = true;
            device.AddressChangesRestoredAt = s_now.AddMinutes(5);
            await store.UpdateAddressesAsync(device, default);
            Assert.True(read != device.ConcurrencyStamp);

            // The stamp it returned is the row's: a second address write with it succeeds, one with the old stamp does not.
            device.AddressRecordsPending = false;
            await store.UpdateAddressesAsync(device, default);
            stale.Addresses = [System.Net.IPAddress.Parse("10.0.0.8")];
            await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.UpdateAddressesAsync(stale, default));
            await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.UpdateAsync(stale, default));
        }

        await using (var context = Session())
        {
            var device = (await context.Devices.FindAsync("dev-a", default))!;
            Assert.Equal(["10.0.0.7", "fd00::7"], device.Addresses.Select(a => a.ToString()));
            Assert.False(device.AddressRecordsPending);
            Assert.Equal(s_now.AddMinutes(5), device.AddressChangesRestoredAt);
            Assert.Equal("berlin", device.Labels["site"]);
            Assert.Empty(await context.Devices.ListAddressRecordsPendingAsync(10, default));
            device.Status = DeviceStatus.Active;
            await context.Devices.UpdateAsync(device, default); // the whole-row write takes the stamp the address write left
        }
    }

    [Check(typeof(IDeviceStore))]
    private async Task Devices_keep_a_pending_secret_its_origin_and_name_resolution_and_are_listed_and_counted_by_them(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            var rotated = NewDevice("rotated");
            rotated.SecretOrigin = DeviceSecretOrigin.Device;
            rotated.SecretChangedAt = s_now.AddHours(1);
            rotated.NameResolution = DeviceNameResolution.Blocked;
            rotated.NameResolutionAt = s_now.AddHours(2);
            var asking = NewDevice("asking");
            asking.ProtectedSecret = "protected-current";
            asking.PendingSecretHash = [1, 2, 3];
            asking.PendingProtectedSecret = "protected-pending";
            asking.NameResolution = DeviceNameResolution.Ok;
            await context.Devices.CreateAsync([rotated, asking, NewDevice("plain")], cancellationToken);
        }

        await using (var context = Session())
        {
            var store = context.Devices;
            var asking = (await store.FindAsync("asking", cancellationToken))!;
            Assert.Equal(new byte[] { 1, 2, 3 }, asking.PendingSecretHash);
            Assert.Equal("protected-pending", asking.PendingProtectedSecret);
            Assert.Equal("protected-current", asking.ProtectedSecret);
            Assert.Equal(DeviceSecretOrigin.Factory, asking.SecretOrigin);
            var rotated = (await store.FindAsync("rotated", cancellationToken))!;
            Assert.Equal(DeviceSecretOrigin.Device, rotated.SecretOrigin);
            Assert.Equal(s_now.AddHours(1), rotated.SecretChangedAt);
            Assert.Equal(DeviceNameResolution.Blocked, rotated.NameResolution);
            Assert.Equal(s_now.AddHours(2), rotated.NameResolutionAt);
            Assert.Null(rotated.PendingSecretHash);

            // The pending secret is used: it becomes the secret.
            asking.SecretHash = asking.PendingSecretHash!;
            asking.PendingSecretHash = null;
            asking.PendingProtectedSecret = null;
            asking.SecretOrigin = DeviceSecretOrigin.Device;
            await store.UpdateAsync(asking, cancellationToken);
            asking = (await store.FindAsync("asking", cancellationToken))!;
            Assert.Null(asking.PendingSecretHash);
            Assert.Equal(new byte[] { 1, 2, 3 }, asking.SecretHash);

            var factory = await store.ListAsync(new DeviceQuery(Sort: DeviceSort.DeviceId, Descending: false) { FactorySecret = true }, cancellationToken);
            Assert.Equal(["plain"], factory.Items.Select(d => d.DeviceId));
            Assert.Equal(1, factory.Total);
            var replaced = await store.ListAsync(new DeviceQuery(Sort: DeviceSort.DeviceId, Descending: false) { FactorySecret = false }, cancellationToken);
            Assert.Equal(["asking", "rotated"], replaced.Items.Select(d => d.DeviceId));
            var blocked = await store.ListAsync(new DeviceQuery { NameResolution = DeviceNameResolution.Blocked }, cancellationToken);
            Assert.Equal(["rotated"], blocked.Items.Select(d => d.DeviceId));

            var counts = await store.CountByNameResolutionAsync(cancellationToken);
            Assert.Equal(1, counts[DeviceNameResolution.Unknown]);
            Assert.Equal(1, counts[DeviceNameResolution.Ok]);
            Assert.Equal(1, counts[DeviceNameResolution.Blocked]);
            Assert.Equal(0, counts[DeviceNameResolution.Other]);
        }
    }
}
