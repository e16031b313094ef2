using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing.Contracts;

public sealed partial class StoreContract
{
    [Check(typeof(IRateLimitStore))]
    private async Task Rate_limit_allows_a_burst_then_one_per_interval_keys_apart_purged_once_idle(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var limits = context.RateLimits;
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

    [Check(typeof(IRateLimitStore))]
    private async Task Rate_limit_permits_are_peeked_returned_and_exhausted_until_a_given_time(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var limits = context.RateLimits;
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

    [Check(typeof(IIssuanceQueueStore))]
    private async Task The_issuance_queue_is_first_come_first_served_keeps_places_and_drops_devices_that_do_not_come_back(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var queue = context.Queue;
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

    [Check(typeof(IIssuanceQueueStore))]
    private async Task A_queued_device_that_keeps_its_key_holds_a_slot_only_while_it_is_expected_and_keeps_its_place(CancellationToken cancellationToken)
    {
        await using var context = Session();
        var queue = context.Queue;
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

    [Check(typeof(IRateLimitStore))]
    private async Task Rate_limit_racing_instances_take_exactly_the_limit(CancellationToken cancellationToken)
    {
        var contexts = Enumerable.Range(0, 8).Select(_ => Session()).ToList();
        try
        {
            var results = await Task.WhenAll(contexts.Select(c => c.RateLimits.TryAcquireAsync("race", 3, TimeSpan.FromMinutes(1), s_now, default)));
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
}
