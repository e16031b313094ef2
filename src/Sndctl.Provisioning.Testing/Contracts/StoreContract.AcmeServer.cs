using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing.Contracts;

public sealed partial class StoreContract
{
    [Check(typeof(IDeviceAcmeAccountStore))]
    private async Task ACME_accounts_one_per_key_by_device_oldest_first_and_updated_only_from_what_was_read(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            var store = context.AcmeAccounts;
            Assert.True(await store.AddAsync(NewAccount("acct_b", "dev-1", "key-b", s_now.AddMinutes(2)), cancellationToken));
            Assert.True(await store.AddAsync(NewAccount("acct_a", "dev-1", "key-a", s_now.AddMinutes(1)), cancellationToken));
            Assert.True(await store.AddAsync(NewAccount("acct_c", "dev-2", "key-c", s_now), cancellationToken));
        }

        await using (var context = Session())
        {
            var store = context.AcmeAccounts;
            Assert.False(await store.AddAsync(NewAccount("acct_d", "dev-2", "key-a", s_now), cancellationToken)); // The key has an account.
            Assert.Null(await store.FindAsync("acct_d", cancellationToken));
            Assert.Equal("acct_a", (await store.FindByKeyAsync("key-a", cancellationToken))?.Id);
            Assert.Null(await store.FindByKeyAsync("key-z", cancellationToken));
            Assert.Equal(["acct_a", "acct_b"], (await store.ListByDeviceAsync("dev-1", cancellationToken)).Select(a => a.Id));

            var a = (await store.FindAsync("acct_a", cancellationToken))!;
            Assert.Equal("dev-1", a.DeviceId);
            Assert.Equal(s_now.AddMinutes(1), a.CreatedAt);
            Assert.Equal(DeviceAcmeAccountStatus.Valid, a.Status);

            // A key change: the account is found by its new key, not by its old one.
            a.Jwk = "{\"kty\":\"EC\",\"n\":\"key-a2\"}";
            a.KeyThumbprint = "key-a2";
            await store.UpdateAsync(a, cancellationToken);
            Assert.Equal("acct_a", (await store.FindByKeyAsync("key-a2", cancellationToken))?.Id);
            Assert.Null(await store.FindByKeyAsync("key-a", cancellationToken));

            // Another account cannot take a key in use.
            var b = (await store.FindAsync("acct_b", cancellationToken))!;
            b.KeyThumbprint = "key-a2";
            await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.UpdateAsync(b, cancellationToken));
        }

        await using (var context = Session())
        {
            var store = context.AcmeAccounts;
            Assert.Equal("key-b", (await store.FindAsync("acct_b", cancellationToken))?.KeyThumbprint);
            var stale = (await store.FindAsync("acct_c", cancellationToken))!;
            var fresh = (await store.FindAsync("acct_c", cancellationToken))!;
            fresh.Status = DeviceAcmeAccountStatus.Deactivated;
            await store.UpdateAsync(fresh, cancellationToken);
            stale.KeyThumbprint = "key-c2";
            await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.UpdateAsync(stale, cancellationToken));
            Assert.Equal(DeviceAcmeAccountStatus.Deactivated, (await store.FindAsync("acct_c", cancellationToken))?.Status);

            Assert.True(await store.DeleteAsync("acct_c", cancellationToken));
            Assert.False(await store.DeleteAsync("acct_c", cancellationToken));
            Assert.Empty(await store.ListByDeviceAsync("dev-2", cancellationToken));
        }
    }

    [Check(typeof(IDeviceAcmeAccountStore), typeof(IDeviceAcmeOrderStore))]
    private async Task ACME_orders_round_trip_list_open_ones_purge_expired_and_go_with_their_account(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            await context.AcmeAccounts.AddAsync(NewAccount("acct_a", "dev-1", "key-a", s_now), cancellationToken);
            await context.AcmeAccounts.AddAsync(NewAccount("acct_b", "dev-1", "key-b", s_now), cancellationToken);
            var orders = context.AcmeOrders;
            await orders.AddAsync(NewOrder("ord_2", "acct_a", "dev-1", s_now.AddMinutes(2), DeviceAcmeOrderStatus.Processing), cancellationToken);
            await orders.AddAsync(NewOrder("ord_1", "acct_a", "dev-1", s_now.AddMinutes(1), DeviceAcmeOrderStatus.Ready), cancellationToken);
            await orders.AddAsync(NewOrder("ord_3", "acct_b", "dev-1", s_now.AddMinutes(3), DeviceAcmeOrderStatus.Valid), cancellationToken);
            await orders.AddAsync(NewOrder("ord_4", "acct_b", "dev-1", s_now.AddMinutes(4), DeviceAcmeOrderStatus.Invalid), cancellationToken);
            await orders.AddAsync(NewOrder("ord_5", "acct_b", "dev-1", s_now.AddDays(-8), DeviceAcmeOrderStatus.Ready), cancellationToken); // Expired.
            await orders.AddAsync(NewOrder("ord_6", "acct_b", "dev-2", s_now, DeviceAcmeOrderStatus.Ready), cancellationToken);
        }

        await using (var context = Session())
        {
            var orders = context.AcmeOrders;
            Assert.Equal(["ord_1", "ord_2"], (await orders.ListOpenAsync("dev-1", s_now.AddMinutes(5), cancellationToken)).Select(o => o.Id));

            var order = (await orders.FindAsync("ord_2", cancellationToken))!;
            Assert.Equal("dev-1.devices.example.com", order.Hostname);
            Assert.Equal(new byte[] { 0x30, 0x82, 0x01 }, order.Csr);
            Assert.Equal(s_now.AddMinutes(2).AddDays(7), order.Expires);
            var stale = (await orders.FindAsync("ord_2", cancellationToken))!;
            var certificateId = Guid.NewGuid();
            order.Status = DeviceAcmeOrderStatus.Valid;
            order.Csr = null;
            order.CertificateId = certificateId;
            await orders.UpdateAsync(order, cancellationToken);
            stale.Status = DeviceAcmeOrderStatus.Invalid;
            stale.ErrorType = "urn:ietf:params:acme:error:serverInternal";
            await Assert.ThrowsAsync<ConcurrencyConflictException>(() => orders.UpdateAsync(stale, cancellationToken));

            var decided = (await orders.FindAsync("ord_2", cancellationToken))!;
            Assert.Equal(DeviceAcmeOrderStatus.Valid, decided.Status);
            Assert.Equal(certificateId, decided.CertificateId);
            Assert.Null(decided.Csr);
            Assert.Null(decided.ErrorType);
            Assert.Equal(["ord_1"], (await orders.ListOpenAsync("dev-1", s_now.AddMinutes(5), cancellationToken)).Select(o => o.Id));
            Assert.Empty(await orders.ListOpenAsync("dev-1", s_now.AddDays(8), cancellationToken)); // Expired by then.

            Assert.Equal(1, await orders.PurgeExpiredAsync(s_now, cancellationToken));
            Assert.Null(await orders.FindAsync("ord_5", cancellationToken));
        }

        await using (var context = Session())
        {
            Assert.True(await context.AcmeAccounts.DeleteAsync("acct_b", cancellationToken));
            Assert.Null(await context.AcmeOrders.FindAsync("ord_3", cancellationToken));
            Assert.Null(await context.AcmeOrders.FindAsync("ord_6", cancellationToken));
            Assert.NotNull(await context.AcmeOrders.FindAsync("ord_1", cancellationToken));
        }
    }

    [Check(typeof(IDeviceStore), typeof(IDeviceAcmeAccountStore), typeof(IDeviceAcmeOrderStore))]
    private async Task Deleting_a_device_deletes_its_ACME_accounts_and_orders(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            await context.Devices.CreateAsync([NewDevice("dev-1"), NewDevice("dev-2")], cancellationToken);
            await context.AcmeAccounts.AddAsync(NewAccount("acct_1", "dev-1", "key-1", s_now), cancellationToken);
            await context.AcmeAccounts.AddAsync(NewAccount("acct_2", "dev-2", "key-2", s_now), cancellationToken);
            await context.AcmeOrders.AddAsync(NewOrder("ord_1", "acct_1", "dev-1", s_now, DeviceAcmeOrderStatus.Ready), cancellationToken);
            await context.AcmeOrders.AddAsync(NewOrder("ord_2", "acct_2", "dev-2", s_now, DeviceAcmeOrderStatus.Ready), cancellationToken);
        }

        await using (var context = Session())
        {
            Assert.True(await context.Devices.DeleteAsync("dev-1", cancellationToken));
        }

        await using (var context = Session())
        {
            Assert.Null(await context.AcmeAccounts.FindAsync("acct_1", cancellationToken));
            Assert.Null(await context.AcmeAccounts.FindByKeyAsync("key-1", cancellationToken));
            Assert.Null(await context.AcmeOrders.FindAsync("ord_1", cancellationToken));
            Assert.NotNull(await context.AcmeAccounts.FindAsync("acct_2", cancellationToken));
            Assert.NotNull(await context.AcmeOrders.FindAsync("ord_2", cancellationToken));

            // The key is free again: the device made anew may bind it.
            Assert.True(await context.AcmeAccounts.AddAsync(NewAccount("acct_3", "dev-2", "key-1", s_now), cancellationToken));
        }
    }

    [Check(typeof(IAcmeNonceStore))]
    private async Task ACME_nonces_are_used_once_across_units_of_work_and_purged_when_expired(CancellationToken cancellationToken)
    {
        await using (var context = Session())
        {
            Assert.True(await context.AcmeNonces.TryUseAsync("nonce-a", s_now.AddMinutes(1), cancellationToken));
            Assert.False(await context.AcmeNonces.TryUseAsync("nonce-a", s_now.AddMinutes(1), cancellationToken));
            Assert.True(await context.AcmeNonces.TryUseAsync("nonce-b", s_now.AddMinutes(30), cancellationToken));
        }

        // Two units of work (two instances) racing on one nonce: exactly one wins.
        await using (var first = Session())
        await using (var second = Session())
        {
            var results = await Task.WhenAll(
                first.AcmeNonces.TryUseAsync("nonce-c", s_now.AddMinutes(1), cancellationToken),
                second.AcmeNonces.TryUseAsync("nonce-c", s_now.AddMinutes(1), cancellationToken));
            Assert.Equal(1, results.Count(used => used));
            Assert.False(await second.AcmeNonces.TryUseAsync("nonce-a", s_now.AddMinutes(1), cancellationToken));
        }

        await using (var context = Session())
        {
            Assert.Equal(0, await context.AcmeNonces.PurgeExpiredAsync(s_now, cancellationToken));
            Assert.Equal(2, await context.AcmeNonces.PurgeExpiredAsync(s_now.AddMinutes(2), cancellationToken));
            Assert.False(await context.AcmeNonces.TryUseAsync("nonce-b", s_now.AddMinutes(30), cancellationToken));
        }
    }

    private static DeviceAcmeAccount NewAccount(string id, string deviceId, string thumbprint, DateTimeOffset createdAt) => new()
    {
        Id = id,
        DeviceId = deviceId,
        Jwk = "{\"kty\":\"EC\",\"n\":\"" + thumbprint + "\"}",
        KeyThumbprint = thumbprint,
        CreatedAt = createdAt,
    };

    private static DeviceAcmeOrder NewOrder(string id, string accountId, string deviceId, DateTimeOffset createdAt, DeviceAcmeOrderStatus status) => new()
    {
        Id = id,
        AccountId = accountId,
        DeviceId = deviceId,
        Hostname = deviceId + ".devices.example.com",
        Status = status,
        CreatedAt = createdAt,
        Expires = createdAt.AddDays(7),
        Csr = status == DeviceAcmeOrderStatus.Processing ? [0x30, 0x82, 0x01] : null,
    };
}
