using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// Every log record, through FakeLogger (Microsoft.Extensions.Diagnostics.Testing), written out as a line with
/// its structured values too: a secret must not hide in a property that a JSON logger would ship.
/// </summary>
internal sealed class CapturedLogs
{
    public FakeLogCollector Collector { get; } = new();

    public ILoggerProvider Provider() => new FakeLoggerProvider(Collector);

    /// <summary>"Level Category: message key=value;... exception", one per record so far.</summary>
    public IReadOnlyList<string> Lines => [.. Collector.GetSnapshot().Select(Format)];

    private static string Format(FakeLogRecord record)
        => $"{record.Level} {record.Category}: {record.Message} {string.Join(";", record.StructuredState?.Select(p => $"{p.Key}={p.Value}") ?? [])} {record.Exception}";
}
