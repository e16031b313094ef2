using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// An <see cref="IDnsProvider"/> for local runs and tests against Pebble: places TXT records in
/// <c>pebble-challtestsrv</c> through its management API (<c>/set-txt</c>, <c>/clear-txt</c>; addresses with
/// <c>/add-a</c>, <c>/add-aaaa</c>, <c>/clear-a</c>, <c>/clear-aaaa</c>). Not for
/// production. challtestsrv can only clear every value of a name at once, so deleting one value clears the
/// name and puts back the other values this process placed there.
/// </summary>
public sealed class ChallTestSrvDnsProvider(HttpClient http, IOptions<ChallTestSrvOptions> options) : IDnsProvider
{
    /// <summary>The name of the <see cref="HttpClient"/> this provider uses.</summary>
    public const string HttpClientName = "Sndctl.Provisioning.Testing.ChallTestSrv";

    /// <summary>
    /// The TXT values this process placed, by challtestsrv and name: challtestsrv can only clear a name, so
    /// removing one value clears the name and puts the others back. (Per process, as challtestsrv's own state
    /// is per server: two processes sharing a name at once would clear each other's values.)
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Server, string Name), List<string>> s_placed = new();

    /// <inheritdoc />
    public async Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        var placed = s_placed.GetOrAdd((Url("").AbsoluteUri, Fqdn(name)), _ => []);
        await SetTxtAsync(name, value, cancellationToken).ConfigureAwait(false);
        lock (placed)
        {
            placed.Add(value);
        }

        return new DnsTxtRecord(name, value, null);
    }

    /// <inheritdoc />
    public async Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);

        // challtestsrv clears every value at a name; the others this process placed are put back.
        List<string> others;
        var placed = s_placed.GetOrAdd((Url("").AbsoluteUri, Fqdn(record.Name)), _ => []);
        lock (placed)
        {
            placed.Remove(record.Value);
            others = [.. placed];
        }

        using (var response = await http.PostAsJsonAsync(Url("clear-txt"), new TxtBody(Fqdn(record.Name), null), ChallTestSrvJsonContext.Default.TxtBody, cancellationToken).ConfigureAwait(false))
        {
            response.EnsureSuccessStatusCode();
        }

        foreach (var value in others)
        {
            await SetTxtAsync(record.Name, value, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SetTxtAsync(string name, string value, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(Url("set-txt"), new TxtBody(Fqdn(name), value), ChallTestSrvJsonContext.Default.TxtBody, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <inheritdoc />
    public async Task SetAddressRecordsAsync(string name, IReadOnlyList<System.Net.IPAddress> addresses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        foreach (var (type, family) in (IEnumerable<(string, System.Net.Sockets.AddressFamily)>)[("a", System.Net.Sockets.AddressFamily.InterNetwork), ("aaaa", System.Net.Sockets.AddressFamily.InterNetworkV6)])
        {
            using (var cleared = await http.PostAsJsonAsync(Url("clear-" + type), new AddressBody(Fqdn(name), null), ChallTestSrvJsonContext.Default.AddressBody, cancellationToken).ConfigureAwait(false))
            {
                cleared.EnsureSuccessStatusCode();
            }

            var wanted = addresses.Where(a => a.AddressFamily == family).Select(a => a.ToString()).ToList();
            if (wanted.Count > 0)
            {
                using var added = await http.PostAsJsonAsync(Url("add-" + type), new AddressBody(Fqdn(name), wanted), ChallTestSrvJsonContext.Default.AddressBody, cancellationToken).ConfigureAwait(false);
                added.EnsureSuccessStatusCode();
            }
        }
    }

    private Uri Url(string path) => new(options.Value.ManagementUrl ?? throw new InvalidOperationException("ChallTestSrvOptions.ManagementUrl is not set."), path);

    private static string Fqdn(string name) => name.EndsWith('.') ? name : name + ".";
}

internal sealed record TxtBody(
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("value"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Value);

internal sealed record AddressBody(
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("addresses"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Addresses);

[JsonSerializable(typeof(TxtBody))]
[JsonSerializable(typeof(AddressBody))]
internal sealed partial class ChallTestSrvJsonContext : JsonSerializerContext;
