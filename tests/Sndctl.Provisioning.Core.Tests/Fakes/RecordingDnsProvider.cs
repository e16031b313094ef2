using System.Collections.Concurrent;

namespace Sndctl.Provisioning.Core.Tests.Fakes;

/// <summary>A DNS provider that keeps its TXT records in memory (a zone) and can be made to fail deletions.</summary>
internal sealed class RecordingDnsProvider : IDnsProvider
{
    private readonly ConcurrentDictionary<(string Name, string Value), string> _zone = new();

    public IReadOnlyCollection<(string Name, string Value)> Zone => [.. _zone.Keys];

    public bool FailDeletes { get; set; }

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
}
