using System.Net;
using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Dns.Authoritative.Internal;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>Response rate limiting per client network and answer, as BIND's and Knot's RRL.</summary>
public sealed class ResponseRateLimiterTests
{
    private static readonly byte[] s_soaAnswer = Answer("devices.example.test", rcode: 0);

    [Fact]
    public void A_burst_is_sent_then_every_second_answer_is_slipped_and_the_rest_dropped_and_the_bucket_refills()
    {
        var time = new FakeTimeProvider();
        var limiter = new ResponseRateLimiter(responsesPerSecond: 5, slip: 2, capacity: 1000, time);
        var client = IPAddress.Parse("198.51.100.7");

        var actions = Enumerable.Range(0, 11).Select(_ => limiter.Decide(client, s_soaAnswer)).ToList();

        Assert.Equal(Enumerable.Repeat(RateLimitAction.Send, 5), actions.Take(5));
        Assert.Equal([RateLimitAction.Drop, RateLimitAction.Slip, RateLimitAction.Drop, RateLimitAction.Slip, RateLimitAction.Drop, RateLimitAction.Slip], actions.Skip(5));

        // Other answers, other networks: their own buckets. The same /24: the same bucket.
        Assert.Equal(RateLimitAction.Send, limiter.Decide(IPAddress.Parse("198.51.101.7"), s_soaAnswer));
        Assert.Equal(RateLimitAction.Send, limiter.Decide(client, Answer("www.devices.example.test", rcode: 0)));
        Assert.NotEqual(RateLimitAction.Send, limiter.Decide(IPAddress.Parse("198.51.100.200"), s_soaAnswer));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(RateLimitAction.Send, limiter.Decide(client, s_soaAnswer));
    }

    [Fact]
    public void NXDOMAIN_for_random_names_counts_as_one_answer_per_network()
    {
        var limiter = new ResponseRateLimiter(5, 0, 1000, new FakeTimeProvider());
        var client = IPAddress.Parse("2001:db8:1:2::7");
        var sent = Enumerable.Range(0, 50).Count(i => limiter.Decide(client, Answer($"r{i}.devices.example.test", rcode: 3)) == RateLimitAction.Send);
        Assert.Equal(5, sent);

        // The same /56: the same bucket; another /56 its own.
        Assert.Equal(RateLimitAction.Drop, limiter.Decide(IPAddress.Parse("2001:db8:1:ff::1"), Answer("x.devices.example.test", rcode: 3)));
        Assert.Equal(RateLimitAction.Send, limiter.Decide(IPAddress.Parse("2001:db8:1:100::1"), Answer("x.devices.example.test", rcode: 3)));
    }

    [Fact]
    public void A_spray_of_networks_keeps_the_table_at_its_capacity()
    {
        var time = new FakeTimeProvider();
        var limiter = new ResponseRateLimiter(5, 2, 1000, time);
        for (var i = 0; i < 100_000; i++)
        {
            limiter.Decide(new IPAddress(BitConverter.GetBytes(i << 8)), s_soaAnswer);
            if (i % 10_000 == 0)
            {
                time.Advance(TimeSpan.FromSeconds(2));
            }
        }

        Assert.InRange(limiter.TrackedCount, 1, 1001);
    }

    [Fact]
    public void A_slipped_answer_keeps_the_question_sets_TC_and_carries_no_records()
    {
        var answer = Answer("devices.example.test", rcode: 0);
        var length = ResponseRateLimiter.Truncate(answer);

        Assert.Equal(12 + 22 + 4, length); // header, the name (22 bytes), type and class
        Assert.Equal(0x02, answer[2] & 0x02);
        Assert.Equal(new byte[6], answer[6..12]);
    }

    /// <summary>A response header and question (one answer record counted, its bytes left out: the limiter reads the question only).</summary>
    private static byte[] Answer(string name, int rcode)
    {
        var bytes = new List<byte> { 0x12, 0x34, 0x84, (byte)rcode, 0, 1, 0, 1, 0, 0, 0, 1 };
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
        }

        bytes.AddRange([0, 0, 6, 0, 1]);
        return [.. bytes];
    }
}
