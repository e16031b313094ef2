using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// An <see cref="IDnsProvider"/> for local runs and tests against Pebble: places TXT records in
/// <c>pebble-challtestsrv</c> through its management API (<c>/set-txt</c>, <c>/clear-txt</c>). Not for
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

    private Uri Url(string path) => new(options.Value.ManagementUrl ?? throw new InvalidOperationException("ChallTestSrvOptions.ManagementUrl is not set."), path);

    private static string Fqdn(string name) => name.EndsWith('.') ? name : name + ".";
}

internal sealed record TxtBody(
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("value"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Value);

[JsonSerializable(typeof(TxtBody))]
internal sealed partial class ChallTestSrvJsonContext : JsonSerializerContext;
