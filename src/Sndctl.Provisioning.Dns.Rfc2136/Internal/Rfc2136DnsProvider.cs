using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Rfc2136.Internal;

/// <summary>
/// The provider contract over RFC 2136: a TXT value is added and removed as exactly one RR (other values at the name
/// stay: class NONE deletes match the data), and a name's address records are replaced in one update message (delete
/// the A and AAAA sets, add the new ones), which the server applies atomically.
/// </summary>
internal sealed class Rfc2136DnsProvider(Rfc2136Client client, IOptionsMonitor<Rfc2136DnsOptions> options) : IDnsProvider
{
    public async Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        var ttl = options.CurrentValue.Ttl;
        await client.UpdateAsync(name, (message, owner) => message.Updates.Add(new AddRecordUpdate(new TxtRecord(owner, ttl, value))), cancellationToken).ConfigureAwait(false);
        return new DnsTxtRecord(name, value, null);
    }

    public Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);

        // Deleting an RR that is not there is no error in RFC 2136 (the janitor may remove one twice).
        return client.UpdateAsync(record.Name, (message, owner) => message.Updates.Add(new DeleteRecordUpdate(new TxtRecord(owner, 0, record.Value))), cancellationToken);
    }

    public Task SetAddressRecordsAsync(string name, IReadOnlyList<IPAddress> addresses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var ttl = AddressTtl;
        return client.UpdateAsync(name, (message, owner) =>
        {
            message.Updates.Add(new DeleteAllRecordsUpdate(owner, RecordType.A));
            message.Updates.Add(new DeleteAllRecordsUpdate(owner, RecordType.Aaaa));
            foreach (var address in addresses.Distinct())
            {
                message.Updates.Add(new AddRecordUpdate(address.AddressFamily == AddressFamily.InterNetworkV6
                    ? new AaaaRecord(owner, ttl, address)
                    : new ARecord(owner, ttl, address)));
            }
        }, cancellationToken);
    }

    /// <summary>The TTL of device address records, as every provider places them.</summary>
    public const int AddressTtl = 60;
}
