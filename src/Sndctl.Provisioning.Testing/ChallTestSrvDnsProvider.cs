using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// An <see cref="IDnsProvider"/> for local runs and tests against Pebble: places TXT records in
/// <c>pebble-challtestsrv</c> through its management API (<c>/set-txt</c>, <c>/clear-txt</c>; addresses with
/// <c>/add-a</c>, <c>/add-aaaa</c>, <c>/clear-a</c>, <c>/clear-aaaa</c>). Not for
/// production. challtestsrv can only clear every value of a name at once, so deleting removes all TXT
/// values at the record's name (device challenge names are unique per device).
/// </summary>
public sealed class ChallTestSrvDnsProvider(HttpClient http, IOptions<ChallTestSrvOptions> options) : IDnsProvider
{
    /// <summary>The name of the <see cref="HttpClient"/> this provider uses.</summary>
    public const string HttpClientName = "Sndctl.Provisioning.Testing.ChallTestSrv";

    /// <inheritdoc />
    public async Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(Url("set-txt"), new TxtBody(Fqdn(name), value), ChallTestSrvJsonContext.Default.TxtBody, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return new DnsTxtRecord(name, value, null);
    }

    /// <inheritdoc />
    public async Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var response = await http.PostAsJsonAsync(Url("clear-txt"), new TxtBody(Fqdn(record.Name), null), ChallTestSrvJsonContext.Default.TxtBody, cancellationToken).ConfigureAwait(false);
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
