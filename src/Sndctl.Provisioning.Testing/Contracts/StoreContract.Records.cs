using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing.Contracts;

public sealed partial class StoreContract
{
    [Check(typeof(ICsrRequestStore))]
    private async Task CSR_requests_round_trip_list_by_status_decide_and_revoked_for_the_CRL(CancellationToken cancellationToken)
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

        await using (var context = Session())
        {
            var store = context.CsrRequests;
            await store.AddAsync(NewRequest("csr_a", CsrCertificateType.Webhook, 1), default);
            await store.AddAsync(NewRequest("csr_b", CsrCertificateType.PrivateServer, 2), default);
            await store.AddAsync(NewRequest("csr_c", CsrCertificateType.Webhook, 3), default);
        }

        await using (var context = Session())
        {
            var store = context.CsrRequests;
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

    [Check(typeof(IAuditEventStore))]
    private async Task Audit_events_newest_first_per_device(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var store = context.AuditEvents;
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

    [Check(typeof(IAuditEventStore))]
    private async Task Audit_events_export_in_ID_order_after_a_cursor_and_before_a_time(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var store = context.AuditEvents;
        for (var i = 0; i < 5; i++)
        {
            await store.AppendAsync(new AuditEvent { Timestamp = s_now.AddSeconds(i), Actor = "system", Type = "e" + i }, default);
        }

        var first = await store.ListAfterAsync(0, s_now.AddMinutes(1), 2, default);
        Assert.Equal(["e0", "e1"], first.Select(e => e.Type));
        Assert.True(first[0].Id < first[1].Id);
        var next = await store.ListAfterAsync(first[^1].Id, s_now.AddMinutes(1), 10, default);
        Assert.Equal(["e2", "e3", "e4"], next.Select(e => e.Type));
        Assert.Empty(await store.ListAfterAsync(next[^1].Id, s_now.AddMinutes(1), 10, default));

        // Not yet settled: written at or after writtenBefore.
        Assert.Equal(["e0", "e1", "e2"], (await store.ListAfterAsync(0, s_now.AddSeconds(3), 10, default)).Select(e => e.Type));
    }

    [Check(typeof(IAuditEventStore))]
    private async Task Audit_events_older_than_the_retention_are_purged_and_newer_ones_kept(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var store = context.AuditEvents;
        await store.AppendAsync(new AuditEvent { Timestamp = s_now.AddDays(-401), Actor = "system", Type = "old" }, default);
        await store.AppendAsync(new AuditEvent { Timestamp = s_now.AddDays(-399), Actor = "system", Type = "kept" }, default);

        Assert.Equal(1, await store.PurgeBeforeAsync(s_now.AddDays(-400), default));
        Assert.Equal(["kept"], (await store.ListAsync(null, 1, 10, default)).Items.Select(e => e.Type));
    }

    [Check(typeof(IIssuerStateStore))]
    private async Task Issuer_state_first_writer_wins_set_replaces(CancellationToken cancellationToken)
    {
        await using var first = Session();
        await using var second = Session();
        var a = first.IssuerState;
        var b = second.IssuerState;
        Assert.Null(await a.GetAsync("k", default));
        Assert.Equal("one", await a.GetOrAddAsync("k", "one", default));
        Assert.Equal("one", await b.GetOrAddAsync("k", "two", default));
        await b.SetAsync("k", "three", default);
        Assert.Equal("three", await a.GetAsync("k", default));
        await b.SetAsync("new", "v", default);
        Assert.Equal("v", await a.GetAsync("new", default));
    }

    [Check(typeof(IIssuerStateStore))]
    private async Task Issuer_state_racing_first_start_all_agree_on_one_value(CancellationToken cancellationToken)
    {
        var contexts = Enumerable.Range(0, 8).Select(_ => Session()).ToList();
        try
        {
            var values = await Task.WhenAll(contexts.Select((c, i) => c.IssuerState.GetOrAddAsync("race", "v" + i, default)));
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

    [Check(typeof(IZoneRecordStore))]
    private async Task Zone_records_are_added_replaced_and_removed_and_every_change_moves_the_version(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var zone = context.ZoneRecords;
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

        // Several names at once: each name's set replaced, the others' records untouched, the counts summed.
        await zone.AddAsync(Record("_acme-challenge.dev-3.devices.example.com", "TXT", "token-3"), default);
        var (added, removed, maxId) = await zone.ReplaceManyAsync(
            [
                ("dev-1.devices.example.com", [Record("dev-1.devices.example.com", "A", "10.0.0.10")]),
                ("dev-3.devices.example.com", [Record("dev-3.devices.example.com", "A", "10.0.0.30"), Record("dev-3.devices.example.com", "AAAA", "fd00::30")]),
            ],
            addressTypes,
            default);
        Assert.Equal((3, 1), (added, removed));
        Assert.Equal((await zone.GetVersionAsync(default)).MaxId, maxId);
        Assert.Equal(
            ["A 10.0.0.10", "A 10.0.0.30", "AAAA fd00::30", "TXT token-3"],
            (await zone.ListAsync(default)).Select(r => r.Type + " " + r.Value).Order(StringComparer.Ordinal));
        Assert.Equal((0, 0, 0L), await zone.ReplaceManyAsync([("dev-1.devices.example.com", [Record("dev-1.devices.example.com", "A", "10.0.0.10")])], addressTypes, default));
    }

    [Check(typeof(IZoneRecordStore))]
    private async Task Zone_changes_are_logged_in_order_an_instance_reads_past_its_own_and_old_entries_go(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var zone = context.ZoneRecords;
        ZoneRecord Record(string name, string type, string value) => new() { Name = name, Type = type, Value = value, CreatedAt = s_now };
        string[] addressTypes = ["A", "AAAA"];

        // Several names read at once, by name then ID (with or without a change log).
        await zone.ReplaceAsync("b.devices.example.com", addressTypes, [Record("b.devices.example.com", "A", "10.0.0.2")], cancellationToken);
        await zone.ReplaceAsync("a.devices.example.com", addressTypes, [Record("a.devices.example.com", "A", "10.0.0.1"), Record("a.devices.example.com", "AAAA", "fd00::1")], cancellationToken);
        await zone.ReplaceAsync("c.devices.example.com", addressTypes, [Record("c.devices.example.com", "A", "10.0.0.3")], cancellationToken);
        Assert.Equal(
            ["a.devices.example.com A 10.0.0.1", "a.devices.example.com AAAA fd00::1", "b.devices.example.com A 10.0.0.2"],
            (await zone.ListAsync(["b.devices.example.com", "a.devices.example.com", "none.devices.example.com"], cancellationToken)).Select(r => $"{r.Name} {r.Type} {r.Value}"));

        if (await zone.GetLastChangeAsync(cancellationToken) is not { } start)
        {
            return; // a store without a change log: instances compare versions instead
        }

        // Every change moves the log's position; a replacement that changes nothing writes no entry.
        await zone.ReplaceAsync("a.devices.example.com", addressTypes, [Record("a.devices.example.com", "A", "10.0.0.9")], cancellationToken);
        var afterReplace = await zone.GetLastChangeAsync(cancellationToken);
        Assert.True(afterReplace > start);
        await zone.ReplaceAsync("a.devices.example.com", addressTypes, [Record("a.devices.example.com", "A", "10.0.0.9")], cancellationToken);
        Assert.Equal(afterReplace, await zone.GetLastChangeAsync(cancellationToken));
        var txt = await zone.AddAsync(Record("_acme-challenge.a.devices.example.com", "TXT", "token"), cancellationToken);
        var afterAdd = await zone.GetLastChangeAsync(cancellationToken);
        Assert.True(afterAdd > afterReplace);
        Assert.True(await zone.RemoveAsync(txt, cancellationToken));
        var afterRemove = (await zone.GetLastChangeAsync(cancellationToken))!.Value;
        Assert.True(afterRemove > afterAdd);
        Assert.False(await zone.RemoveAsync(txt, cancellationToken));
        Assert.Equal(0, await zone.RemoveAsync("_acme-challenge.a.devices.example.com", "TXT", "token", cancellationToken));
        Assert.Equal(afterRemove, await zone.GetLastChangeAsync(cancellationToken));

        // This instance's own changes are not handed back, but the position read moves past them, in limited steps.
        var all = await zone.ListChangesAsync(start, 100, cancellationToken);
        Assert.Empty(all.Names);
        Assert.Equal(afterRemove, all.Last);
        Assert.False(all.More);
        var first = await zone.ListChangesAsync(start, 1, cancellationToken);
        Assert.True(first.More);
        Assert.Equal(afterReplace, first.Last);
        var none = await zone.ListChangesAsync(afterRemove, 100, cancellationToken);
        Assert.Equal((afterRemove, false), (none.Last, none.More));

        // Entries go once they are older than asked; younger ones stay.
        var now = context.Time.GetUtcNow();
        Assert.Equal(0, await zone.RemoveChangesAsync(now.AddMinutes(-5), cancellationToken));
        Assert.True(await zone.RemoveChangesAsync(now.AddMinutes(5), cancellationToken) >= 3);
        Assert.Equal((long?)0, await zone.GetLastChangeAsync(cancellationToken));
    }

    [Check(typeof(ICsrRequestStore))]
    private async Task CSR_requests_are_found_by_their_CSR_pending_ones_expire_and_expired_certificates_are_purged(CancellationToken cancellationToken)
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

        await using (var context = Session())
        {
            var store = context.CsrRequests;
            await store.AddAsync(NewRequest("csr_old", "aa", CsrRequestStatus.Approved, 1, s_now.AddDays(-40)), default);
            await store.AddAsync(NewRequest("csr_new", "aa", CsrRequestStatus.Approved, 2, s_now.AddDays(300)), default);
            await store.AddAsync(NewRequest("csr_wait", "bb", CsrRequestStatus.Pending, 3), default);
            await store.AddAsync(NewRequest("csr_fresh", "cc", CsrRequestStatus.Pending, 60 * 24 * 40), default);
        }

        await using (var context = Session())
        {
            var store = context.CsrRequests;
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
}
