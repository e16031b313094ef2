using System.Collections.Concurrent;

namespace Sndctl.Provisioning.Core.Tests.Fakes;

/// <summary>A DNS provider that keeps its TXT and address records in memory (a zone) and can be made to fail.</summary>
internal sealed class RecordingDnsProvider : IDnsProvider
{
    private readonly ConcurrentDictionary<(string Name, string Value), string> _zone = new();

    public IReadOnlyCollection<(string Name, string Value)> Zone => [.. _zone.Keys];

    private readonly ConcurrentDictionary<string, IReadOnlyList<System.Net.IPAddress>> _addresses = new(StringComparer.Ordinal);

    public bool FailDeletes { get; set; }

    public bool FailAddresses { get; set; }

    public int AddressCalls;

    /// <summary>Runs once, at the next address publication, before it (to change a device meanwhile).</summary>
    public Func<Task>? BeforeNextAddresses { get; set; }

    /// <summary>The address records at <paramref name="name"/> as the zone holds them (empty when none).</summary>
    public IReadOnlyList<string> AddressesAt(string name) => _addresses.TryGetValue(name, out var set) ? [.. set.Select(a => a.ToString())] : [];

    public Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        var id = _zone.GetOrAdd((name, value), _ => Guid.NewGuid().ToString("N"));
        return Task.FromResult(new DnsTxtRecord(name, value, id));
    }

    public Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
    {
        if (FailDeletes)
        {
            throw new HttpRequestException("The DNS API is down.");
        }

        _zone.TryRemove((record.Name, record.Value), out _);
        return Task.CompletedTask;
    }

    public async Task SetAddressRecordsAsync(string name, IReadOnlyList<System.Net.IPAddress> addresses, CancellationToken cancellationToken)
    {
        if (BeforeNextAddresses is { } before)
        {
            BeforeNextAddresses = null;
            await before();
        }

        Interlocked.Increment(ref AddressCalls);
        if (FailAddresses)
        {
            throw new HttpRequestException("The DNS API is down.");
        }

        if (addresses.Count == 0)
        {
            _addresses.TryRemove(name, out _);
        }
        else
        {
            _addresses[name] = [.. addresses];
        }
    }
}
