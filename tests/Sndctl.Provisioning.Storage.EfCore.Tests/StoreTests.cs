using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Storage.EfCore.Internal;

namespace Sndctl.Provisioning.Storage.EfCore.Tests;

/// <summary>The store contract, run against each database users meet.</summary>
public abstract class StoreTests<TDatabase> : IAsyncLifetime
    where TDatabase : ITestDatabase, new()
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private TDatabase _database = default!;

    public ValueTask InitializeAsync()
    {
        _database = new TDatabase();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    private EfDeviceStore<TestDbContext> Devices(TestDbContext context) => new(context);

    private static Device NewDevice(string id, DateTimeOffset? createdAt = null) => new()
    {
        DeviceId = id,
        Hostname = id + ".devices.example.com",
        SecretHash = new byte[32],
        CreatedAt = createdAt ?? s_now,
        Labels = new Dictionary<string, string> { ["site"] = "berlin" },
    };

    private static DeviceCertificate NewCertificate(string deviceId, DateTimeOffset notAfter, DateTimeOffset? issuedAt = null, DateTimeOffset? renewAfter = null, string? protectedKey = null) => new()
    {
        DeviceId = deviceId,
        Issuer = "Test",
        SerialNumber = Guid.NewGuid().ToString("N").ToUpperInvariant(),
        Thumbprint = new string('A', 64),
        CertificatePem = "-----BEGIN CERTIFICATE-----",
        NotBefore = notAfter.AddDays(-90),
        NotAfter = notAfter,
        RenewAfter = renewAfter ?? notAfter.AddDays(-30),
        ProtectedPrivateKey = protectedKey,
        IssuedAt = issuedAt ?? s_now,
    };

    [Fact]
    public async Task Device_create_find_update_round_trips_every_field()
    {
        await using (var context = _database.CreateContext())
        {
            await Devices(context).CreateAsync([NewDevice("dev-1")], default);
        }

        await using (var context = _database.CreateContext())
        {
            var store = Devices(context);
            var device = (await store.FindAsync("dev-1", default))!;
            Assert.Equal("dev-1.devices.example.com", device.Hostname);
            Assert.Equal("berlin", device.Labels["site"]);
            Assert.Equal(s_now, device.CreatedAt);
            Assert.Equal(DeviceStatus.Pending, device.Status);
            device.Status = DeviceStatus.Active;
            device.RegisteredAt = s_now.AddMinutes(1);
            device.CurrentCertificateId = Guid.NewGuid();
            await store.UpdateAsync(device, default);
            await store.UpdateAsync(device, default);
        }

        await using (var context = _database.CreateContext())
        {
            var device = (await Devices(context).FindAsync("dev-1", default))!;
            Assert.Equal(DeviceStatus.Active, device.Status);
            Assert.Equal(s_now.AddMinutes(1), device.RegisteredAt);
            Assert.NotNull(device.CurrentCertificateId);
            Assert.Null(await Devices(context).FindAsync("dev-2", default));
        }
    }

    [Fact]
    public async Task Device_duplicate_throws_and_batch_is_all_or_nothing()
    {
        await using var context = _database.CreateContext();
        var store = Devices(context);
        await store.CreateAsync([NewDevice("dup")], default);
        await Assert.ThrowsAsync<DuplicateDeviceException>(() => store.CreateAsync([NewDevice("dup")], default));
        await Assert.ThrowsAsync<DuplicateDeviceException>(() => store.CreateAsync([NewDevice("new-1"), NewDevice("dup"), NewDevice("new-2")], default));
        Assert.Null(await store.FindAsync("new-1", default));
        Assert.Null(await store.FindAsync("new-2", default));
    }

    [Fact]
    public async Task Device_concurrent_writers_second_gets_conflict()
    {
        await using (var context = _database.CreateContext())
        {
            await Devices(context).CreateAsync([NewDevice("race")], default);
        }

        await using var first = _database.CreateContext();
        await using var second = _database.CreateContext();
        var a = (await Devices(first).FindAsync("race", default))!;
        var b = (await Devices(second).FindAsync("race", default))!;
        a.Status = DeviceStatus.Disabled;
        await Devices(first).UpdateAsync(a, default);
        b.LastSeenAt = s_now;
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => Devices(second).UpdateAsync(b, default));

        await using var check = _database.CreateContext();
        Assert.Equal(DeviceStatus.Disabled, (await Devices(check).FindAsync("race", default))!.Status);
    }

    [Fact]
    public async Task Device_delete_removes_certificates_too()
    {
        await using var context = _database.CreateContext();
        await Devices(context).CreateAsync([NewDevice("gone")], default);
        var certificates = new EfCertificateStore<TestDbContext>(context);
        await certificates.AddAsync(NewCertificate("gone", s_now.AddDays(60)), default);

        Assert.True(await Devices(context).DeleteAsync("gone", default));
        Assert.False(await Devices(context).DeleteAsync("gone", default));
        Assert.Empty(await certificates.ListByDeviceAsync("gone", default));
    }

    [Fact]
    public async Task Device_list_filters_pages_and_counts()
    {
        await using var context = _database.CreateContext();
        var store = Devices(context);
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

        var counts = await store.CountByStatusAsync(default);
        Assert.Equal(23, counts[DeviceStatus.Pending]);
        Assert.Equal(1, counts[DeviceStatus.Active]);
        Assert.Equal(1, counts[DeviceStatus.Disabled]);
    }

    [Fact]
    public async Task Device_list_sorts_by_id_status_last_seen_and_certificate_expiry()
    {
        await using (var context = _database.CreateContext())
        {
            var devices = new[] { NewDevice("b"), NewDevice("a"), NewDevice("c"), NewDevice("d") };
            devices[0].Status = DeviceStatus.Active;
            devices[1].Status = DeviceStatus.Disabled;
            devices[0].LastSeenAt = s_now.AddHours(2);
            devices[2].LastSeenAt = s_now.AddHours(1);
            await Devices(context).CreateAsync(devices, default);
        }

        await using (var context = _database.CreateContext())
        {
            var certificates = new EfCertificateStore<TestDbContext>(context);
            var soon = NewCertificate("c", s_now.AddDays(5));
            var later = NewCertificate("b", s_now.AddDays(50));
            await certificates.AddAsync(soon, default);
            await certificates.AddAsync(later, default);
            var store = Devices(context);
            foreach (var (id, certificate) in new[] { ("c", soon), ("b", later) })
            {
                var device = (await store.FindAsync(id, default))!;
                device.CurrentCertificateId = certificate.Id;
                await store.UpdateAsync(device, default);
            }
        }

        await using (var context = _database.CreateContext())
        {
            var store = Devices(context);
            async Task<string> Order(DeviceSort sort, bool descending)
                => string.Concat((await store.ListAsync(new DeviceQuery(Sort: sort, Descending: descending), default)).Items.Select(d => d.DeviceId));

            Assert.Equal("abcd", await Order(DeviceSort.DeviceId, false));
            Assert.Equal("dcba", await Order(DeviceSort.DeviceId, true));
            Assert.Equal("bacd", await Order(DeviceSort.Status, false)); // active, disabled, pending (by name)
            Assert.Equal("bcad", await Order(DeviceSort.LastSeen, true)); // never-seen last
            Assert.Equal("cbad", await Order(DeviceSort.Expiry, false)); // soonest first, no certificate last
            Assert.Equal("bcad", await Order(DeviceSort.Expiry, true));
        }
    }

    [Fact]
    public async Task Certificates_history_newest_first_find_many_revoke_and_expiring_count()
    {
        await using var context = _database.CreateContext();
        await Devices(context).CreateAsync([NewDevice("c1"), NewDevice("c2")], default);
        var store = new EfCertificateStore<TestDbContext>(context);
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
            var device = (await Devices(context).FindAsync(id, default))!;
            device.CurrentCertificateId = certificate.Id;
            await Devices(context).UpdateAsync(device, default);
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
    }

    [Fact]
    public async Task CSR_requests_round_trip_list_by_status_decide_and_revoked_for_the_CRL()
    {
        CsrRequest NewRequest(string id, CsrCertificateType type, int minutes) => new()
        {
            Id = id,
            Type = type,
            CsrPem = "-----BEGIN CERTIFICATE REQUEST-----",
            IpAddress = "192.168.1.10",
            ClientAddress = "127.0.0.1",
            Metadata = new Dictionary<string, string> { ["host"] = "nas" },
            SubmittedAt = s_now.AddMinutes(minutes),
            Status = CsrRequestStatus.Pending,
        };

        await using (var context = _database.CreateContext())
        {
            var store = new EfCsrRequestStore<TestDbContext>(context);
            await store.AddAsync(NewRequest("csr_a", CsrCertificateType.Webhook, 1), default);
            await store.AddAsync(NewRequest("csr_b", CsrCertificateType.PrivateServer, 2), default);
            await store.AddAsync(NewRequest("csr_c", CsrCertificateType.Webhook, 3), default);
        }

        await using (var context = _database.CreateContext())
        {
            var store = new EfCsrRequestStore<TestDbContext>(context);
            var a = (await store.FindAsync("csr_a", default))!;
            Assert.Equal("nas", a.Metadata["host"]);
            Assert.Equal(s_now.AddMinutes(1), a.SubmittedAt);
            a.Status = CsrRequestStatus.Approved;
            a.SerialNumber = "0A1B2C";
            a.CertificatePem = "-----BEGIN CERTIFICATE-----";
            a.DecidedAt = s_now.AddMinutes(5);
            await store.UpdateAsync(a, default);

            var stale = (await store.FindAsync("csr_c", default))!;
            var fresh = (await store.FindAsync("csr_c", default))!;
            fresh.Status = CsrRequestStatus.Denied;
            await store.UpdateAsync(fresh, default);
            stale.Status = CsrRequestStatus.Approved;
            await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.UpdateAsync(stale, default));

            var pending = await store.ListAsync(CsrRequestStatus.Pending, 1, 10, default);
            Assert.Equal(["csr_b"], pending.Items.Select(r => r.Id));
            var all = await store.ListAsync(null, 1, 2, default);
            Assert.Equal(3, all.Total);
            Assert.Equal(["csr_c", "csr_b"], all.Items.Select(r => r.Id)); // Newest first.

            Assert.Empty(await store.ListRevokedAsync(CsrCertificateType.Webhook, default));
            a = (await store.FindAsync("csr_a", default))!;
            a.RevokedAt = s_now.AddMinutes(10);
            await store.UpdateAsync(a, default);
            Assert.Equal([("0A1B2C", s_now.AddMinutes(10))], await store.ListRevokedAsync(CsrCertificateType.Webhook, default));
            Assert.Empty(await store.ListRevokedAsync(CsrCertificateType.PrivateServer, default));
        }
    }

    [Fact]
    public async Task Audit_events_newest_first_per_device()
    {
        await using var context = _database.CreateContext();
        var store = new EfAuditEventStore<TestDbContext>(context);
        for (var i = 0; i < 5; i++)
        {
            await store.AppendAsync(new AuditEvent { Timestamp = s_now.AddSeconds(i), DeviceId = i % 2 == 0 ? "a" : "b", Actor = "system", Type = "t" + i }, default);
        }

        var forA = await store.ListAsync("a", 1, 10, default);
        Assert.Equal(3, forA.Total);
        Assert.Equal(["t4", "t2", "t0"], forA.Items.Select(e => e.Type));
        var all = await store.ListAsync(null, 2, 2, default);
        Assert.Equal(5, all.Total);
        Assert.Equal(["t2", "t1"], all.Items.Select(e => e.Type));
    }

    [Fact]
    public async Task Audit_events_older_than_the_retention_are_purged_and_newer_ones_kept()
    {
        await using var context = _database.CreateContext();
        var store = new EfAuditEventStore<TestDbContext>(context);
        await store.AppendAsync(new AuditEvent { Timestamp = s_now.AddDays(-401), Actor = "system", Type = "old" }, default);
        await store.AppendAsync(new AuditEvent { Timestamp = s_now.AddDays(-399), Actor = "system", Type = "kept" }, default);

        Assert.Equal(1, await store.PurgeBeforeAsync(s_now.AddDays(-400), default));
        Assert.Equal(["kept"], (await store.ListAsync(null, 1, 10, default)).Items.Select(e => e.Type));
    }

    [Fact]
    public async Task Issuer_state_first_writer_wins_set_replaces()
    {
        await using var first = _database.CreateContext();
        await using var second = _database.CreateContext();
        var a = new EfIssuerStateStore<TestDbContext>(first, TimeProvider.System);
        var b = new EfIssuerStateStore<TestDbContext>(second, TimeProvider.System);
        Assert.Null(await a.GetAsync("k", default));
        Assert.Equal("one", await a.GetOrAddAsync("k", "one", default));
        Assert.Equal("one", await b.GetOrAddAsync("k", "two", default));
        await b.SetAsync("k", "three", default);
        Assert.Equal("three", await a.GetAsync("k", default));
        await b.SetAsync("new", "v", default);
        Assert.Equal("v", await a.GetAsync("new", default));
    }

    [Fact]
    public async Task Issuer_state_racing_first_start_all_agree_on_one_value()
    {
        var contexts = Enumerable.Range(0, 8).Select(_ => _database.CreateContext()).ToList();
        try
        {
            var values = await Task.WhenAll(contexts.Select((c, i) => new EfIssuerStateStore<TestDbContext>(c, TimeProvider.System).GetOrAddAsync("race", "v" + i, default)));
            Assert.Single(values.Distinct());
        }
        finally
        {
            foreach (var context in contexts)
            {
                await context.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_lease_has_one_holder_at_a_time_and_expires_by_the_databases_clock()
    {
        await using var first = _database.CreateContext();
        await using var second = _database.CreateContext();
        var a = new EfIssuanceLeaseStore<TestDbContext>(first);
        var b = new EfIssuanceLeaseStore<TestDbContext>(second);

        Assert.True(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default));
        Assert.True(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default)); // ours: renewed
        Assert.False(await b.TryAcquireAsync("dev", "B", TimeSpan.FromMinutes(5), default));
        await a.ReleaseAsync("dev", "A", default);
        Assert.True(await b.TryAcquireAsync("dev", "B", TimeSpan.FromMilliseconds(300), default));
        Assert.False(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default));

        // No caller's clock is asked: the lease ends when the database's clock says so.
        await Task.Delay(TimeSpan.FromMilliseconds(700), TestContext.Current.CancellationToken);
        Assert.True(await a.TryAcquireAsync("dev", "A", TimeSpan.FromMinutes(5), default));
    }

    [Fact]
    public async Task The_issuance_journal_keeps_an_unfinished_issuance_and_finds_DNS_records_whose_holder_lost_its_lease()
    {
        await using var context = _database.CreateContext();
        var journal = new EfIssuanceJournalStore<TestDbContext>(context);
        var leases = new EfIssuanceLeaseStore<TestDbContext>(context);
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

        await using (var reader = _database.CreateContext())
        {
            var found = await new EfIssuanceJournalStore<TestDbContext>(reader).FindPendingAsync("dev", default);
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
        await Task.Delay(TimeSpan.FromSeconds(3.5), TestContext.Current.CancellationToken);
        Assert.Equal(["crashed", "released"], (await journal.ListDevicesWithOrphanedDnsRecordsAsync(10, default)).Order());
        Assert.Single(await journal.ListDevicesWithOrphanedDnsRecordsAsync(1, default));

        await using (var reader = _database.CreateContext())
        {
            var live = Assert.Single(await new EfIssuanceJournalStore<TestDbContext>(reader).ListDnsRecordsAsync("live", default));
            Assert.Equal(("A", "_acme-challenge.live.example.com", "v", "zone/record"), (live.Holder, live.Name, live.Value, live.ProviderId));
        }

        await journal.RemoveDnsRecordAsync(entries[1].Id, default);
        await journal.RemoveDnsRecordAsync(entries[1].Id, default); // gone already: fine
        Assert.Equal(["released"], await journal.ListDevicesWithOrphanedDnsRecordsAsync(10, default));
    }

    [Fact]
    public async Task Completing_an_issuance_writes_certificate_device_event_and_ends_the_pending_one_together_or_not_at_all()
    {
        await using (var setup = _database.CreateContext())
        {
            await Devices(setup).CreateAsync([NewDevice("dev")], default);
        }

        await using var context = _database.CreateContext();
        var journal = new EfIssuanceJournalStore<TestDbContext>(context);
        var pending = new PendingIssuance { DeviceId = "dev", Issuer = "Test", CertificateSigningRequest = [1], PublicKey = [2], StartedAt = s_now };
        await journal.SavePendingAsync(pending, default);
        var device = (await Devices(context).FindAsync("dev", default))!;

        // Someone else changed the device since it was read: nothing is written.
        await using (var other = _database.CreateContext())
        {
            var theirs = (await Devices(other).FindAsync("dev", default))!;
            theirs.LastSeenAt = s_now;
            await Devices(other).UpdateAsync(theirs, default);
        }

        var stale = NewCertificate("dev", s_now.AddDays(90));
        device.CurrentCertificateId = stale.Id;
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => journal.CompleteAsync(stale, device, new AuditEvent { Timestamp = s_now, DeviceId = "dev", Actor = "system", Type = "certificate.issued" }, pending, default));
        await using (var reader = _database.CreateContext())
        {
            Assert.Empty(await new EfCertificateStore<TestDbContext>(reader).ListByDeviceAsync("dev", default));
            Assert.NotNull(await new EfIssuanceJournalStore<TestDbContext>(reader).FindPendingAsync("dev", default));
            Assert.Equal(0, (await new EfAuditEventStore<TestDbContext>(reader).ListAsync("dev", 1, 10, default)).Total);
        }

        // Read again and applied on top: all four at once.
        device = (await Devices(context).FindAsync("dev", default))!;
        var certificate = NewCertificate("dev", s_now.AddDays(90));
        device.CurrentCertificateId = certificate.Id;
        await journal.CompleteAsync(certificate, device, new AuditEvent { Timestamp = s_now, DeviceId = "dev", Actor = "system", Type = "certificate.issued" }, pending, default);

        await using (var reader = _database.CreateContext())
        {
            Assert.Equal(certificate.Id, (await Devices(reader).FindAsync("dev", default))!.CurrentCertificateId);
            Assert.Single(await new EfCertificateStore<TestDbContext>(reader).ListByDeviceAsync("dev", default));
            Assert.Null(await new EfIssuanceJournalStore<TestDbContext>(reader).FindPendingAsync("dev", default));
            Assert.Equal("certificate.issued", Assert.Single((await new EfAuditEventStore<TestDbContext>(reader).ListAsync("dev", 1, 10, default)).Items).Type);
        }

        device.LastSeenAt = s_now.AddMinutes(1);
        await Devices(context).UpdateAsync(device, default); // the stamp it was given is the stored one
    }

    [Fact]
    public async Task Leases_expired_longer_than_asked_are_purged_by_the_databases_clock_and_live_ones_kept()
    {
        await using var context = _database.CreateContext();
        var leases = new EfIssuanceLeaseStore<TestDbContext>(context);
        Assert.True(await leases.TryAcquireAsync("dead", "A", TimeSpan.FromMilliseconds(200), default));
        Assert.True(await leases.TryAcquireAsync("live", "B", TimeSpan.FromMinutes(5), default));
        Assert.Equal(0, await leases.PurgeExpiredAsync(TimeSpan.FromHours(1), default));

        await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);

        Assert.Equal(1, await leases.PurgeExpiredAsync(TimeSpan.Zero, default));
        Assert.False(await leases.TryAcquireAsync("live", "C", TimeSpan.FromMinutes(5), default));
        Assert.True(await leases.TryAcquireAsync("dead", "C", TimeSpan.FromMinutes(5), default));
    }

    [Fact]
    public async Task A_restarted_instance_takes_over_its_previous_incarnations_lease_at_once_and_no_one_elses()
    {
        await using var first = _database.CreateContext();
        await using var second = _database.CreateContext();
        var before = new EfIssuanceLeaseStore<TestDbContext>(first);
        var after = new EfIssuanceLeaseStore<TestDbContext>(second);

        Assert.True(await before.TryAcquireAsync("dev", "node-1#incarnation-a", TimeSpan.FromMinutes(5), default)); // then the process is killed
        Assert.False(await after.TryAcquireAsync("dev", "node-2#incarnation-b", TimeSpan.FromMinutes(5), default)); // another instance waits
        Assert.False(await after.TryAcquireAsync("dev", "node-1", TimeSpan.FromMinutes(5), default)); // no '#': takes over nothing
        Assert.False(await after.TryAcquireAsync("dev", "node-#x", TimeSpan.FromMinutes(5), default)); // a prefix of the name is not the name
        Assert.True(await after.TryAcquireAsync("dev", "node-1#incarnation-c", TimeSpan.FromMinutes(5), default)); // node-1 restarted
        Assert.False(await before.TryAcquireAsync("dev", "node-2#incarnation-b", TimeSpan.FromMinutes(5), default));
    }

    [Fact]
    public async Task Certificates_early_reissues_and_revocation_list_kept_across_device_deletion()
    {
        await using var context = _database.CreateContext();
        await Devices(context).CreateAsync([NewDevice("early")], default);
        var certificates = new EfCertificateStore<TestDbContext>(context);
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

        Assert.True(await Devices(context).DeleteAsync("early", default));
        Assert.Equal([("0B", s_now)], await certificates.ListRevokedAsync("Test", s_now, default));
        Assert.Empty(await certificates.ListRevokedAsync("Other", s_now, default));
    }

    [Fact]
    public async Task Renewals_due_are_the_current_server_key_certificates_of_active_devices_seen_lately()
    {
        await using var context = _database.CreateContext();
        var certificates = new EfCertificateStore<TestDbContext>(context);
        var store = Devices(context);
        string[] ids = ["due", "seen-long-ago", "own-key", "not-yet", "disabled"];
        await store.CreateAsync([.. ids.Select(id => NewDevice(id))], default);
        foreach (var id in ids)
        {
            var certificate = NewCertificate(id, s_now.AddDays(20), s_now.AddDays(-70), renewAfter: id == "not-yet" ? s_now.AddDays(5) : s_now.AddDays(-1), protectedKey: id == "own-key" ? null : "protected");
            await certificates.AddAsync(certificate, default);
            var device = (await store.FindAsync(id, default))!;
            device.CurrentCertificateId = certificate.Id;
            device.Status = id == "disabled" ? DeviceStatus.Disabled : DeviceStatus.Active;
            device.LastSeenAt = id == "seen-long-ago" ? s_now.AddDays(-40) : s_now.AddDays(-2);
            await store.UpdateAsync(device, default);
        }

        var due = await certificates.ListRenewalDueAsync(s_now, s_now.AddDays(-30), 10, default);
        Assert.Equal(["due"], due.Select(c => c.DeviceId));

        // Not yet due: the one the CA may move earlier (ARI); moving it makes it due.
        var notDue = Assert.Single(await certificates.ListCurrentNotDueAsync("Test", s_now, 0, 10, default));
        Assert.Equal("not-yet", notDue.DeviceId);
        Assert.Empty(await certificates.ListCurrentNotDueAsync("Test", s_now, 1, 10, default));
        Assert.Empty(await certificates.ListCurrentNotDueAsync("Other", s_now, 0, 10, default));
        await certificates.SetRenewAfterAsync(notDue.Id, s_now.AddHours(-1), default);
        Assert.Equal(s_now.AddHours(-1), (await certificates.FindAsync(notDue.Id, default))!.RenewAfter);
        Assert.Empty(await certificates.ListCurrentNotDueAsync("Test", s_now, 0, 10, default));
    }

    [Fact]
    public async Task Device_addresses_round_trip_in_order_and_pending_ones_are_listed()
    {
        await using (var context = _database.CreateContext())
        {
            var withAddresses = NewDevice("dev-a");
            withAddresses.Addresses = [System.Net.IPAddress.Parse("192.168.1.23"), System.Net.IPAddress.Parse("fd00::23")];
            withAddresses.AddressRecordsPending = true;
            await Devices(context).CreateAsync([withAddresses, NewDevice("dev-b")], default);
        }

        await using (var context = _database.CreateContext())
        {
            var store = Devices(context);
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

    [Fact]
    public async Task Zone_records_are_added_replaced_and_removed_and_every_change_moves_the_version()
    {
        await using var context = _database.CreateContext();
        var zone = new EfZoneRecordStore<TestDbContext>(context);
        ZoneRecord Record(string name, string type, string value) => new() { Name = name, Type = type, Value = value, CreatedAt = s_now };
        string[] addressTypes = ["A", "AAAA"];

        var empty = await zone.GetVersionAsync(default);
        Assert.Equal((0, 0L), empty);

        var txt = await zone.AddAsync(Record("_acme-challenge.dev-1.devices.example.com", "TXT", "token-1"), default);
        await zone.ReplaceAsync("dev-1.devices.example.com", addressTypes, [Record("dev-1.devices.example.com", "A", "192.168.1.2"), Record("dev-1.devices.example.com", "AAAA", "fd00::2")], default);
        var v1 = await zone.GetVersionAsync(default);
        Assert.Equal(3, v1.Count);

        // The same set again writes nothing; another set replaces it in one go.
        await zone.ReplaceAsync("dev-1.devices.example.com", addressTypes, [Record("dev-1.devices.example.com", "AAAA", "fd00::2"), Record("dev-1.devices.example.com", "A", "192.168.1.2")], default);
        Assert.Equal(v1, await zone.GetVersionAsync(default));
        await zone.ReplaceAsync("dev-1.devices.example.com", addressTypes, [Record("dev-1.devices.example.com", "A", "10.0.0.9"), Record("dev-1.devices.example.com", "AAAA", "fd00::2")], default);
        var v2 = await zone.GetVersionAsync(default);
        Assert.Equal(3, v2.Count);
        Assert.True(v2.MaxId > v1.MaxId);

        var all = await zone.ListAsync(default);
        Assert.Equal(["TXT token-1", "AAAA fd00::2", "A 10.0.0.9"], all.Select(r => r.Type + " " + r.Value));

        Assert.True(await zone.RemoveAsync(txt, default));
        Assert.False(await zone.RemoveAsync(txt, default));
        await zone.AddAsync(Record("_acme-challenge.dev-2.devices.example.com", "TXT", "token-2"), default);
        Assert.Equal(1, await zone.RemoveAsync("_acme-challenge.dev-2.devices.example.com", "TXT", "token-2", default));
        await zone.ReplaceAsync("dev-1.devices.example.com", addressTypes, [], default);
        var v3 = await zone.GetVersionAsync(default);
        Assert.Equal(0, v3.Count);
        Assert.Empty(await zone.ListAsync(default));

        // IDs are never reused, so a version seen once never comes back with other records.
        var again = await zone.AddAsync(Record("dev-1.devices.example.com", "A", "10.0.0.9"), default);
        Assert.True(again > v2.MaxId);
    }

    [Fact]
    public async Task Rate_limit_allows_a_burst_then_one_per_interval_keys_apart_purged_once_idle()
    {
        await using var context = _database.CreateContext();
        var limits = new EfRateLimitStore<TestDbContext>(context);
        var window = TimeSpan.FromMinutes(1);

        Assert.Null(await limits.TryAcquireAsync("k", 2, window, s_now, default));
        Assert.Null(await limits.TryAcquireAsync("k", 2, window, s_now.AddSeconds(1), default));
        var wait = await limits.TryAcquireAsync("k", 2, window, s_now.AddSeconds(2), default);
        Assert.Equal(TimeSpan.FromSeconds(28), wait); // the first permit's half of the window frees at 30 s
        Assert.Null(await limits.TryAcquireAsync("other", 2, window, s_now.AddSeconds(2), default));
        Assert.Null(await limits.TryAcquireAsync("k", 2, window, s_now.AddSeconds(30), default));
        Assert.NotNull(await limits.TryAcquireAsync("k", 2, window, s_now.AddSeconds(31), default));

        Assert.Equal(1, await limits.PurgeAsync(s_now.AddSeconds(60), default)); // "other" is idle; "k" is not
        Assert.Equal(1, await limits.PurgeAsync(s_now.AddMinutes(5), default));
        Assert.Null(await limits.TryAcquireAsync("k", 2, window, s_now.AddMinutes(5), default));
    }

    [Fact]
    public async Task Rate_limit_permits_are_peeked_returned_and_exhausted_until_a_given_time()
    {
        await using var context = _database.CreateContext();
        var limits = new EfRateLimitStore<TestDbContext>(context);
        var week = TimeSpan.FromDays(7);

        Assert.Equal((0, s_now), await limits.PeekAsync("b", 3, week, s_now, default));
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await limits.TryAcquireAsync("b", 3, week, s_now, default));
        }

        var (used, nextAt) = await limits.PeekAsync("b", 3, week, s_now, default);
        Assert.Equal(3, used);
        Assert.Equal(s_now + week / 3, nextAt); // one slot refills every window / limit
        Assert.NotNull(await limits.TryAcquireAsync("b", 3, week, s_now, default));

        // An order that failed gives its permit back.
        await limits.ReturnAsync("b", 3, week, s_now, default);
        Assert.Equal(2, (await limits.PeekAsync("b", 3, week, s_now, default)).Used);
        Assert.Null(await limits.TryAcquireAsync("b", 3, week, s_now, default));

        // The CA said no until tomorrow: nothing is free before then, even on a fresh key.
        var tomorrow = s_now.AddDays(1);
        await limits.ExhaustAsync("c", 3, week, tomorrow, default);
        var exhausted = await limits.PeekAsync("c", 3, week, s_now, default);
        Assert.Equal(3, exhausted.Used);
        Assert.Equal(tomorrow, exhausted.NextAt);
        Assert.NotNull(await limits.TryAcquireAsync("c", 3, week, tomorrow.AddMinutes(-1), default));
        Assert.Null(await limits.TryAcquireAsync("c", 3, week, tomorrow, default));
    }

    [Fact]
    public async Task The_issuance_queue_is_first_come_first_served_keeps_places_and_drops_devices_that_do_not_come_back()
    {
        await using var context = _database.CreateContext();
        var queue = new EfIssuanceQueueStore<TestDbContext>(context);
        var day = TimeSpan.FromDays(1);

        // Same instant for everyone (a frozen clock): the order is still the order of arrival.
        Assert.Equal(1, await queue.EnterAsync("zz.devices.example.com", "example.com", true, s_now, s_now, s_now + day, s_now + day, default));
        Assert.Equal(2, await queue.EnterAsync("aa.devices.example.com", "example.com", false, s_now, s_now, s_now + day, s_now + day, default));
        Assert.Equal(3, await queue.EnterAsync("mm.devices.example.com", "example.com", true, s_now, s_now, s_now + day, s_now + day, default));
        Assert.Equal(1, await queue.EnterAsync("other.example.net", "example.net", true, s_now, s_now, s_now + day, s_now + day, default));

        // Asking again keeps the place and pushes the deadline out.
        Assert.Equal(2, await queue.EnterAsync("aa.devices.example.com", "example.com", false, s_now.AddHours(1), s_now, s_now + (3 * day), s_now + (3 * day), default));
        Assert.Equal(1, await queue.AheadAsync("aa.devices.example.com", "example.com", s_now, default));
        Assert.Equal(3, await queue.AheadAsync("new.devices.example.com", "example.com", s_now, default));
        Assert.Equal(3, await queue.CountAsync("example.com", s_now, default));
        Assert.Equal(
            [new QueuedIssuance("zz.devices.example.com", true), new QueuedIssuance("aa.devices.example.com", false)],
            await queue.ListAsync("example.com", s_now, 2, default));

        // The first is served; those who did not come back by their deadline drop out.
        await queue.RemoveAsync("zz.devices.example.com", default);
        var later = s_now + (2 * day);
        Assert.Equal(1, await queue.CountAsync("example.com", later, default));
        Assert.Equal(0, await queue.AheadAsync("aa.devices.example.com", "example.com", later, default));

        // A device that comes back after its deadline starts again at the back.
        Assert.Equal(2, await queue.EnterAsync("mm.devices.example.com", "example.com", true, later, later, later + day, later + day, default));
    }

    [Fact]
    public async Task A_queued_device_that_keeps_its_key_holds_a_slot_only_while_it_is_expected_and_keeps_its_place()
    {
        await using var context = _database.CreateContext();
        var queue = new EfIssuanceQueueStore<TestDbContext>(context);
        var week = TimeSpan.FromDays(7);
        var turn = s_now.AddHours(3);

        // A device with its own key (the server cannot issue without it) first, one whose key the server makes next.
        Assert.Equal(1, await queue.EnterAsync("csr.devices.example.com", "example.com", false, s_now, turn, turn.AddMinutes(15), turn + week, default));
        Assert.Equal(2, await queue.EnterAsync("key.devices.example.com", "example.com", true, s_now, turn.AddHours(4), turn.AddHours(4), turn + week, default));

        // Before its turn and after its claim it holds nothing: the one behind may take a free slot. In between it holds.
        Assert.Equal(0, await queue.AheadAsync("key.devices.example.com", "example.com", turn.AddMinutes(-1), default));
        Assert.Equal(1, await queue.AheadAsync("key.devices.example.com", "example.com", turn, default));
        Assert.Equal(1, await queue.AheadAsync("key.devices.example.com", "example.com", turn.AddMinutes(15), default));
        var after = turn.AddMinutes(16);
        Assert.Equal(0, await queue.AheadAsync("key.devices.example.com", "example.com", after, default));

        // It keeps its place: still listed first, still first in line when it asks, and nobody holds ahead of it.
        Assert.Equal(0, await queue.AheadAsync("csr.devices.example.com", "example.com", after, default));
        Assert.Equal("csr.devices.example.com", (await queue.ListAsync("example.com", after, 10, default))[0].Subject);
        Assert.Equal(2, await queue.CountAsync("example.com", after, default));

        // Asking again gives it a new turn and claim: it holds again then, in its place.
        Assert.Equal(1, await queue.EnterAsync("csr.devices.example.com", "example.com", false, after, after.AddHours(3), after.AddHours(3).AddMinutes(15), after + week, default));
        Assert.Equal(1, await queue.AheadAsync("key.devices.example.com", "example.com", after.AddHours(3), default));
        Assert.Equal(2, await queue.EnterAsync("key.devices.example.com", "example.com", true, after, after, after, after + week, default)); // its place in line
    }

    [Fact]
    public async Task CSR_requests_are_found_by_their_CSR_pending_ones_expire_and_expired_certificates_are_purged()
    {
        CsrRequest NewRequest(string id, string sha256, CsrRequestStatus status, int minutes, DateTimeOffset? notAfter = null) => new()
        {
            Id = id,
            Type = CsrCertificateType.Webhook,
            CsrPem = status == CsrRequestStatus.Pending ? "-----BEGIN CERTIFICATE REQUEST-----" : null,
            CsrSha256 = sha256,
            IpAddress = "192.168.1.10",
            SubmittedAt = s_now.AddMinutes(minutes),
            Status = status,
            NotAfter = notAfter,
            DecidedAt = status == CsrRequestStatus.Pending ? null : s_now.AddMinutes(minutes),
        };

        await using (var context = _database.CreateContext())
        {
            var store = new EfCsrRequestStore<TestDbContext>(context);
            await store.AddAsync(NewRequest("csr_old", "aa", CsrRequestStatus.Approved, 1, s_now.AddDays(-40)), default);
            await store.AddAsync(NewRequest("csr_new", "aa", CsrRequestStatus.Approved, 2, s_now.AddDays(300)), default);
            await store.AddAsync(NewRequest("csr_wait", "bb", CsrRequestStatus.Pending, 3), default);
            await store.AddAsync(NewRequest("csr_fresh", "cc", CsrRequestStatus.Pending, 60 * 24 * 40), default);
        }

        await using (var context = _database.CreateContext())
        {
            var store = new EfCsrRequestStore<TestDbContext>(context);
            Assert.Equal("csr_new", (await store.FindByCsrAsync("aa", default))?.Id);
            Assert.Null(await store.FindByCsrAsync("zz", default));

            Assert.Equal(1, await store.ExpirePendingAsync(s_now.AddDays(30), "not decided in time", s_now.AddDays(31), default));
            var expired = (await store.FindAsync("csr_wait", default))!;
            Assert.Equal(CsrRequestStatus.Denied, expired.Status);
            Assert.Equal("not decided in time", expired.Message);
            Assert.Null(expired.CsrPem);
            Assert.Equal(s_now.AddDays(31), expired.DecidedAt);
            Assert.Equal(CsrRequestStatus.Pending, (await store.FindAsync("csr_fresh", default))!.Status);

            Assert.Equal(1, await store.PurgeExpiredAsync(s_now.AddDays(-30), default));
            Assert.Null(await store.FindAsync("csr_old", default));
            Assert.NotNull(await store.FindAsync("csr_new", default));
        }
    }

    [Fact]
    public async Task Rate_limit_racing_instances_take_exactly_the_limit()
    {
        var contexts = Enumerable.Range(0, 8).Select(_ => _database.CreateContext()).ToList();
        try
        {
            var results = await Task.WhenAll(contexts.Select(c => new EfRateLimitStore<TestDbContext>(c).TryAcquireAsync("race", 3, TimeSpan.FromMinutes(1), s_now, default)));
            Assert.Equal(3, results.Count(r => r is null));
        }
        finally
        {
            foreach (var context in contexts)
            {
                await context.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Lease_racing_instances_exactly_one_wins()
    {
        var contexts = Enumerable.Range(0, 8).Select(_ => _database.CreateContext()).ToList();
        try
        {
            var won = await Task.WhenAll(contexts.Select((c, i) => new EfIssuanceLeaseStore<TestDbContext>(c).TryAcquireAsync("hot", "H" + i, TimeSpan.FromMinutes(5), default)));
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

public sealed class SqliteStoreTests : StoreTests<SqliteFileDatabase>;

public sealed class PostgreSqlStoreTests : StoreTests<PostgreSqlDatabase>;
