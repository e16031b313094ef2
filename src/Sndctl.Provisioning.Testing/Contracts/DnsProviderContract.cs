using System.Net;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing.Contracts;

/// <summary>
/// The behaviour every <see cref="IDnsProvider"/> must have, as named checks: run them against your own
/// provider as the project runs them against Cloudflare and Route53 (through stand-ins that keep their
/// published API), the embedded authoritative server and pebble-challtestsrv. What the zone holds is read
/// through <paramref name="lookup"/> (a DNS query to the zone's server, or the stand-in's state), and is
/// waited for up to <paramref name="settle"/>, as a provider may publish asynchronously.
/// </summary>
/// <example>
/// <code>
/// var contract = new DnsProviderContract(provider, (name, type, ct) => QueryMyZoneAsync(name, type, ct), "devices.example.com");
/// await contract.RunAsync(check, cancellationToken); // for each of DnsProviderContract.Checks
/// </code>
/// </example>
/// <param name="provider">The provider under test, configured for <paramref name="zone"/>.</param>
/// <param name="lookup">What the zone holds at a name for a type (<c>TXT</c>, <c>A</c>, <c>AAAA</c>): TXT texts, or addresses as <see cref="IPAddress.ToString"/> writes them.</param>
/// <param name="zone">The zone the provider manages; the checks use fresh names under it.</param>
/// <param name="settle">How long a change may take to show (default 30 seconds).</param>
public sealed class DnsProviderContract(IDnsProvider provider, DnsProviderContract.Lookup lookup, string zone, TimeSpan? settle = null)
{
    /// <summary>Reads the records of <paramref name="type"/> at <paramref name="name"/> (no trailing dot).</summary>
    public delegate Task<IReadOnlyCollection<string>> Lookup(string name, string type, CancellationToken cancellationToken);

    private readonly TimeSpan _settle = settle ?? TimeSpan.FromSeconds(30);

    /// <summary>The names of every check, in a stable order.</summary>
    public static IReadOnlyList<string> Checks => CheckCatalog<DnsProviderContract>.Names;

    /// <summary>Runs <paramref name="check"/>; a broken promise throws <see cref="ContractViolationException"/>.</summary>
    public Task RunAsync(string check, CancellationToken cancellationToken = default)
        => CheckCatalog<DnsProviderContract>.RunAsync(this, check, cancellationToken);

    [Check]
    private async Task A_TXT_value_is_placed_at_its_name_and_removed_by_its_handle(CancellationToken cancellationToken)
    {
        var name = "_acme-challenge." + FreshLabel() + "." + zone;
        var value = KeyAuthorizationDigest();

        var record = await provider.CreateTxtRecordAsync(name, value, cancellationToken);
        Assert.Equal(name, record.Name);
        await ExpectAsync(name, "TXT", [value], cancellationToken);

        await provider.DeleteTxtRecordAsync(record, cancellationToken);
        await ExpectAsync(name, "TXT", [], cancellationToken);
    }

    /// <summary>Two issuances for one name (a renewal racing an order, or two CAs) each place and remove only their own value.</summary>
    [Check]
    private async Task Two_TXT_values_at_one_name_are_kept_apart(CancellationToken cancellationToken)
    {
        var name = "_acme-challenge." + FreshLabel() + "." + zone;
        var (first, second) = (KeyAuthorizationDigest(), KeyAuthorizationDigest());

        var a = await provider.CreateTxtRecordAsync(name, first, cancellationToken);
        var b = await provider.CreateTxtRecordAsync(name, second, cancellationToken);
        await ExpectAsync(name, "TXT", [first, second], cancellationToken);

        await provider.DeleteTxtRecordAsync(a, cancellationToken);
        await ExpectAsync(name, "TXT", [second], cancellationToken);
        await provider.DeleteTxtRecordAsync(b, cancellationToken);
        await ExpectAsync(name, "TXT", [], cancellationToken);
    }

    /// <summary>The janitor removes journalled records a crash left behind, which may be gone already.</summary>
    [Check]
    private async Task Deleting_a_TXT_value_twice_is_harmless(CancellationToken cancellationToken)
    {
        var name = "_acme-challenge." + FreshLabel() + "." + zone;
        var record = await provider.CreateTxtRecordAsync(name, KeyAuthorizationDigest(), cancellationToken);

        await provider.DeleteTxtRecordAsync(record, cancellationToken);
        await provider.DeleteTxtRecordAsync(record, cancellationToken);
        await ExpectAsync(name, "TXT", [], cancellationToken);
    }

    [Check]
    private async Task Address_records_are_made_exactly_the_given_addresses(CancellationToken cancellationToken)
    {
        var name = FreshLabel() + "." + zone;

        await provider.SetAddressRecordsAsync(name, [IPAddress.Parse("192.168.1.20"), IPAddress.Parse("10.0.0.7"), IPAddress.Parse("fd00::20")], cancellationToken);
        await ExpectAsync(name, "A", ["192.168.1.20", "10.0.0.7"], cancellationToken);
        await ExpectAsync(name, "AAAA", ["fd00::20"], cancellationToken);

        // A device moved: the records are replaced, not added to; the same call twice changes nothing.
        for (var i = 0; i < 2; i++)
        {
            await provider.SetAddressRecordsAsync(name, [IPAddress.Parse("192.168.1.21")], cancellationToken);
            await ExpectAsync(name, "A", ["192.168.1.21"], cancellationToken);
            await ExpectAsync(name, "AAAA", [], cancellationToken);
        }

        await provider.SetAddressRecordsAsync(name, [], cancellationToken);
        await ExpectAsync(name, "A", [], cancellationToken);
        await provider.SetAddressRecordsAsync(name, [], cancellationToken); // nothing there: still fine
    }

    [Check]
    private async Task Records_of_one_name_leave_other_names_alone(CancellationToken cancellationToken)
    {
        var (one, other) = (FreshLabel() + "." + zone, FreshLabel() + "." + zone);
        var challenge = "_acme-challenge." + one;
        var value = KeyAuthorizationDigest();

        await provider.SetAddressRecordsAsync(one, [IPAddress.Parse("192.168.1.30")], cancellationToken);
        await provider.SetAddressRecordsAsync(other, [IPAddress.Parse("192.168.1.31")], cancellationToken);
        var record = await provider.CreateTxtRecordAsync(challenge, value, cancellationToken);

        await provider.SetAddressRecordsAsync(one, [], cancellationToken);
        await ExpectAsync(one, "A", [], cancellationToken);
        await ExpectAsync(other, "A", ["192.168.1.31"], cancellationToken);
        await ExpectAsync(challenge, "TXT", [value], cancellationToken);

        await provider.DeleteTxtRecordAsync(record, cancellationToken);
        await provider.SetAddressRecordsAsync(other, [], cancellationToken);
        await ExpectAsync(other, "A", [], cancellationToken);
    }

    /// <summary>Waits (up to the settle time) for the zone to hold exactly <paramref name="expected"/> at the name.</summary>
    private async Task ExpectAsync(string name, string type, string[] expected, CancellationToken cancellationToken)
    {
        var deadline = TimeProvider.System.GetUtcNow() + _settle;
        while (true)
        {
            var actual = await lookup(name, type, cancellationToken);
            if (actual.Order(StringComparer.Ordinal).SequenceEqual(expected.Order(StringComparer.Ordinal), StringComparer.Ordinal))
            {
                return;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new ContractViolationException($"{type} at {name}: expected [{string.Join(", ", expected)}], the zone holds [{string.Join(", ", actual)}] after {_settle.TotalSeconds:0} s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, cancellationToken);
        }
    }

    private static string FreshLabel() => "contract-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A value shaped as a DNS-01 value is: base64url of a SHA-256 digest, 43 characters.</summary>
    private static string KeyAuthorizationDigest()
        => Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Guid.NewGuid().ToByteArray())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
