using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing.Contracts;

public sealed partial class StoreContract
{
    [Check(typeof(IIssuanceLeaseStore))]
    private async Task A_lease_has_one_holder_at_a_time_and_expires_by_the_databases_clock(CancellationToken cancellationToken)
    {
        await using var first = Session();
        await using var second = Session();
        var a = first.Leases;
        var b = second.Leases;

        Assert.True(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default));
        Assert.True(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default)); // ours: renewed
        Assert.False(await b.TryAcquireAsync("dev", "B", TimeSpan.FromMinutes(5), default));
        await a.ReleaseAsync("dev", "A", default);
        Assert.True(await b.TryAcquireAsync("dev", "B", TimeSpan.FromMilliseconds(300), default));
        Assert.False(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default));

        // No caller's clock is asked: the lease ends when the database's clock says so.
        await Task.Delay(TimeSpan.FromMilliseconds(700), TimeProvider.System, cancellationToken);
        Assert.True(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default));
    }

    [Check(typeof(IIssuanceLeaseStore), typeof(IIssuanceJournalStore))]
    private async Task The_issuance_journal_keeps_an_unfinished_issuance_and_finds_DNS_records_whose_holder_lost_its_lease(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var journal = context.Journal;
        var leases = context.Leases;
        var pending = new PendingIssuance
        {
            DeviceId = "dev",
            Issuer = "Acme",
            CertificateSigningRequest = [1, 2, 3],
            PublicKey = [4, 5],
            ProtectedPrivateKey = "protected",
            ReplacesCertificateId = Guid.NewGuid(),
            Early = true,
            StartedAt = s_now,
        };
        await journal.SavePendingAsync(pending, default);
        pending.IssuerReference = "https://ca.test/order/1";
        await journal.SavePendingAsync(pending, default); // the order URL, once placed
        await journal.SavePendingAsync(new PendingIssuance { DeviceId = "other", Issuer = "Acme", CertificateSigningRequest = [9], PublicKey = [9], StartedAt = s_now }, default);

        await using (var reader = Session())
        {
            var found = await reader.Journal.FindPendingAsync("dev", default);
            Assert.NotNull(found);
            Assert.Equal([1, 2, 3], found.CertificateSigningRequest);
            Assert.Equal([4, 5], found.PublicKey);
            Assert.Equal(("protected", pending.ReplacesCertificateId, true, "https://ca.test/order/1", s_now), (found.ProtectedPrivateKey, found.ReplacesCertificateId, found.Early, found.IssuerReference, found.StartedAt));
        }

        // A new issuance of the device replaces the unfinished one.
        await journal.SavePendingAsync(new PendingIssuance { DeviceId = "dev", Issuer = "Acme", CertificateSigningRequest = [7], PublicKey = [7], StartedAt = s_now }, default);
        Assert.Null((await journal.FindPendingAsync("dev", default))!.IssuerReference);
        await journal.RemovePendingAsync("dev", default);
        Assert.Null(await journal.FindPendingAsync("dev", default));
        Assert.NotNull(await journal.FindPendingAsync("other", default));

        // Records: "live" has its lease, "crashed" lost it by the database's clock, "released" gave it back.
        Assert.True(await leases.TryAcquireAsync("live", "A", TimeSpan.FromMinutes(5), default));
        Assert.True(await leases.TryAcquireAsync("crashed", "B", TimeSpan.FromSeconds(3), default)); // long enough for the steps before the first check, even under load
        Assert.True(await leases.TryAcquireAsync("released", "C", TimeSpan.FromMinutes(5), default));
        var entries = new[] { ("live", "A"), ("crashed", "B"), ("released", "C") }
            .Select(e => new DnsRecordJournalEntry { Id = Guid.NewGuid(), DeviceId = e.Item1, Holder = e.Item2, Name = "_acme-challenge." + e.Item1 + ".example.com", Value = "v", CreatedAt = s_now })
            .ToList();
        foreach (var entry in entries)
        {
            await journal.AddDnsRecordAsync(entry, default);
        }

        entries[0].ProviderId = "zone/record";
        await journal.UpdateDnsRecordAsync(entries[0], default);
        await leases.ReleaseAsync("released", "C", default);
        Assert.Equal(["released"], await journal.ListDevicesWithOrphanedDnsRecordsAsync(10, default));
        await Task.Delay(TimeSpan.FromSeconds(3.5), TimeProvider.System, cancellationToken);
        Assert.Equal(["crashed", "released"], (await journal.ListDevicesWithOrphanedDnsRecordsAsync(10, default)).Order());
        Assert.Single(await journal.ListDevicesWithOrphanedDnsRecordsAsync(1, default));

        await using (var reader = Session())
        {
            var live = Assert.Single(await reader.Journal.ListDnsRecordsAsync("live", default));
            Assert.Equal(("A", "_acme-challenge.live.example.com", "v", "zone/record"), (live.Holder, live.Name, live.Value, live.ProviderId));
        }

        await journal.RemoveDnsRecordAsync(entries[1].Id, default);
        await journal.RemoveDnsRecordAsync(entries[1].Id, default); // gone already: fine
        Assert.Equal(["released"], await journal.ListDevicesWithOrphanedDnsRecordsAsync(10, default));
    }

    [Check(typeof(IDeviceStore), typeof(ICertificateStore), typeof(IAuditEventStore), typeof(IIssuanceJournalStore))]
    private async Task Completing_an_issuance_writes_certificate_device_event_and_ends_the_pending_one_together_or_not_at_all(CancellationToken cancellationToken)
    {
        await using (var setup = Session())
        {
            await setup.Devices.CreateAsync([NewDevice("dev")], default);
        }

        await using var context = Session();
        var journal = context.Journal;
        var pending = new PendingIssuance { DeviceId = "dev", Issuer = "Test", CertificateSigningRequest = [1], PublicKey = [2], StartedAt = s_now };
        await journal.SavePendingAsync(pending, default);
        var device = (await context.Devices.FindAsync("dev", default))!;

        // Someone else changed the device since it was read: nothing is written.
        await using (var other = Session())
        {
            var theirs = (await other.Devices.FindAsync("dev", default))!;
            theirs.LastSeenAt = s_now;
            await other.Devices.UpdateAsync(theirs, default);
        }

        var stale = NewCertificate("dev", s_now.AddDays(90));
        device.CurrentCertificateId = stale.Id;
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => journal.CompleteAsync(stale, device, new AuditEvent { Timestamp = s_now, DeviceId = "dev", Actor = "system", Type = "certificate.issued" }, pending, default));
        await using (var reader = Session())
        {
            Assert.Empty(await reader.Certificates.ListByDeviceAsync("dev", default));
            Assert.NotNull(await reader.Journal.FindPendingAsync("dev", default));
            Assert.Equal(0, (await reader.AuditEvents.ListAsync("dev", 1, 10, default)).Total);
        }

        // Read again and applied on top: all four at once.
        device = (await context.Devices.FindAsync("dev", default))!;
        var certificate = NewCertificate("dev", s_now.AddDays(90));
        device.CurrentCertificateId = certificate.Id;
        device.CurrentCertificateNotAfter = certificate.NotAfter;
        await journal.CompleteAsync(certificate, device, new AuditEvent { Timestamp = s_now, DeviceId = "dev", Actor = "system", Type = "certificate.issued" }, pending, default);

        await using (var reader = Session())
        {
            Assert.Equal(certificate.Id, (await reader.Devices.FindAsync("dev", default))!.CurrentCertificateId);
            Assert.Single(await reader.Certificates.ListByDeviceAsync("dev", default));
            Assert.Null(await reader.Journal.FindPendingAsync("dev", default));
            Assert.Equal("certificate.issued", Assert.Single((await reader.AuditEvents.ListAsync("dev", 1, 10, default)).Items).Type);
        }

        device.LastSeenAt = s_now.AddMinutes(1);
        await context.Devices.UpdateAsync(device, default); // the stamp it was given is the stored one
    }

    [Check(typeof(IIssuanceLeaseStore))]
    private async Task Leases_expired_longer_than_asked_are_purged_by_the_databases_clock_and_live_ones_kept(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var leases = context.Leases;
        Assert.True(await leases.TryAcquireAsync("dead", "A", TimeSpan.FromMilliseconds(200), default));
        Assert.True(await leases.TryAcquireAsync("live", "B", TimeSpan.FromMinutes(5), default));
        Assert.Equal(0, await leases.PurgeExpiredAsync(TimeSpan.FromHours(1), default));

        await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, cancellationToken);

        Assert.Equal(1, await leases.PurgeExpiredAsync(TimeSpan.Zero, default));
        Assert.False(await leases.TryAcquireAsync("live", "C", TimeSpan.FromMinutes(5), default));
        Assert.True(await leases.TryAcquireAsync("dead", "C", TimeSpan.FromMinutes(5), default));
    }

    [Check(typeof(IIssuanceLeaseStore))]
    private async Task A_restarted_instance_takes_over_its_previous_incarnations_lease_at_once_and_no_one_elses(CancellationToken cancellationToken)
    {
        await using var first = Session();
        await using var second = Session();
        var before = first.Leases;
        var after = second.Leases;

        Assert.True(await before.TryAcquireAsync("dev", "node-1#incarnation-a", TimeSpan.FromMinutes(5), default)); // then the process is killed
        Assert.False(await after.TryAcquireAsync("dev", "node-2#incarnation-b", TimeSpan.FromMinutes(5), default)); // another instance waits
        Assert.False(await after.TryAcquireAsync("dev", "node-1", TimeSpan.FromMinutes(5), default)); // no '#': takes over nothing
        Assert.False(await after.TryAcquireAsync("dev", "node-#x", TimeSpan.FromMinutes(5), default)); // a prefix of the name is not the name
        Assert.True(await after.TryAcquireAsync("dev", "node-1#incarnation-c", TimeSpan.FromMinutes(5), default)); // node-1 restarted
        Assert.False(await before.TryAcquireAsync("dev", "node-2#incarnation-b", TimeSpan.FromMinutes(5), default));
    }

    [Check(typeof(IIssuanceLeaseStore))]
    private async Task Lease_racing_instances_exactly_one_wins(CancellationToken cancellationToken)
    {
        var contexts = Enumerable.Range(0, 8).Select(_ => Session()).ToList();
        try
        {
            var won = await Task.WhenAll(contexts.Select((c, i) => c.Leases.TryAcquireAsync("hot", "H" + i, TimeSpan.FromMinutes(5), default)));
            Assert.Equal(1, won.Count(w => w));
        }
        finally
        {
            foreach (var context in contexts)
            {
                await context.DisposeAsync();
            }
        }
    }
}
