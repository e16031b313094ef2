using Sndctl.Provisioning.Core;
using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Dns.Internal;

namespace Sndctl.Provisioning.Dns.Route53.Internal;

/// <summary>
/// The Route53 REST calls DNS-01 needs (API version 2013-04-01, XML), signed with Signature Version 4:
/// zone lookup, TXT record sets changed as compare-and-swap batches, change status, AWS error XML,
/// and retries of throttling and 5xx answers.
/// Waits, deadlines and dates run on the remote-wait clock (<see cref="RemoteTime"/>); backoff jitter
/// comes from the <see cref="Random"/> in DI (tests register a seeded one).
/// </summary>
internal sealed partial class Route53Api(HttpClient http, IOptionsMonitor<Route53DnsOptions> options, AwsCredentialChain credentialChain, DnsZoneCache zones, [FromKeyedServices(RemoteTime.ServiceKey)] TimeProvider time, ILogger<Route53Api> logger, Random random)
{
    private readonly Random _random = random;

    public static readonly XNamespace Ns = "https://route53.amazonaws.com/doc/2013-04-01/";
    private const string Service = "route53";
    private const int MaxConflictRetries = 8;
    private static readonly MediaTypeHeaderValue Xml = new("application/xml");
    private static readonly HashSet<string> Throttled = new(StringComparer.Ordinal) { "Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded" };
    private static readonly HashSet<string> BadCredentials = new(StringComparer.Ordinal)
    {
        "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignatureException", "ExpiredToken", "MissingAuthenticationToken",
    };

    /// <summary>The configured hosted zone, or the longest zone that contains <paramref name="recordName"/> (public before private).</summary>
    public async Task<string> FindHostedZoneIdAsync(string recordName, CancellationToken cancellationToken)
    {
        if (options.CurrentValue.HostedZoneId is { Length: > 0 } configured)
        {
            return BareId(configured);
        }

        return await zones.FindAsync(recordName, LookupZoneAsync, cancellationToken).ConfigureAwait(false)
            ?? throw new Route53ApiException(
                $"No Route53 hosted zone of this AWS account contains '{recordName}': create the zone, or set Provisioning:Dns:Route53:HostedZoneId.",
                HttpStatusCode.NotFound,
                "NoSuchHostedZone",
                [],
                null);
    }

    /// <summary>
    /// The zones called exactly <paramref name="name"/> (listed in order by name, so they come first
    /// from <c>dnsname=name</c>), the public one preferred: DNS-01 is checked from the internet.
    /// </summary>
    private async Task<string?> LookupZoneAsync(string name, CancellationToken cancellationToken)
    {
        var matches = new List<(string Id, bool Private)>();
        var query = $"dnsname={Uri.EscapeDataString(name)}&maxitems=100";
        while (true)
        {
            var response = await SendAsync(HttpMethod.Get, "hostedzonesbyname?" + query, null, "finding the hosted zone", "route53:ListHostedZonesByName", cancellationToken).ConfigureAwait(false);
            var root = response.Root!;
            var listed = root.Element(Ns + "HostedZones")?.Elements(Ns + "HostedZone").ToList() ?? [];
            foreach (var zone in listed)
            {
                if (SameName((string?)zone.Element(Ns + "Name"), name))
                {
                    matches.Add((BareId((string)zone.Element(Ns + "Id")!), (bool?)zone.Element(Ns + "Config")?.Element(Ns + "PrivateZone") ?? false));
                }
            }

            // Zones come sorted by name: once one with another name appears, no more matches follow.
            var passed = listed.Count > 0 && !SameName((string?)listed[^1].Element(Ns + "Name"), name);
            if (passed || !((bool?)root.Element(Ns + "IsTruncated") ?? false))
            {
                break;
            }

            query = $"dnsname={Uri.EscapeDataString((string)root.Element(Ns + "NextDNSName")!)}&hostedzoneid={Uri.EscapeDataString((string)root.Element(Ns + "NextHostedZoneId")!)}&maxitems=100";
        }

        return matches.OrderBy(z => z.Private).Select(z => z.Id).FirstOrDefault();
    }

    /// <summary>The TXT record set at <paramref name="name"/>, or null.</summary>
    public Task<TxtRecordSet?> GetTxtAsync(string zoneId, string name, CancellationToken cancellationToken)
        => GetRecordSetAsync(zoneId, name, "TXT", cancellationToken);

    /// <summary>The record set of <paramref name="type"/> at <paramref name="name"/>, or null.</summary>
    public async Task<TxtRecordSet?> GetRecordSetAsync(string zoneId, string name, string type, CancellationToken cancellationToken)
    {
        var response = await SendAsync(
            HttpMethod.Get,
            $"hostedzone/{Uri.EscapeDataString(zoneId)}/rrset?name={Uri.EscapeDataString(Fqdn(name))}&type={type}&maxitems=1",
            null,
            $"reading the {type} records at {name}",
            "route53:ListResourceRecordSets",
            cancellationToken).ConfigureAwait(false);
        var set = response.Root!.Element(Ns + "ResourceRecordSets")?.Elements(Ns + "ResourceRecordSet").FirstOrDefault();
        if (set is null || (string?)set.Element(Ns + "Type") != type || !SameName((string?)set.Element(Ns + "Name"), name) || set.Element(Ns + "SetIdentifier") is not null)
        {
            return null;
        }

        return new TxtRecordSet(
            (long?)set.Element(Ns + "TTL") ?? 300,
            [.. set.Element(Ns + "ResourceRecords")?.Elements(Ns + "ResourceRecord").Select(r => (string)r.Element(Ns + "Value")!) ?? []]);
    }

    /// <summary>Adds one value to the TXT set at <paramref name="name"/>; returns the change ID, or null when the value was there already.</summary>
    public Task<string?> AddTxtValueAsync(string zoneId, string name, string value, CancellationToken cancellationToken)
        => SwapAsync(zoneId, name, value, add: true, cancellationToken);

    /// <summary>Removes one value from the TXT set at <paramref name="name"/>, deleting the set with its last value; null when it was gone.</summary>
    public Task<string?> RemoveTxtValueAsync(string zoneId, string name, string value, CancellationToken cancellationToken)
        => SwapAsync(zoneId, name, value, add: false, cancellationToken);

    /// <summary>
    /// Read the set, then send one batch that deletes exactly what was read and creates the new set.
    /// Route53 applies a batch whole or not at all, and a DELETE must match the current set exactly,
    /// so a concurrent writer (another instance) makes the batch fail instead of losing its value;
    /// the read and the batch are then repeated. UPSERT would let the last writer win.
    /// </summary>
    private async Task<string?> SwapAsync(string zoneId, string name, string value, bool add, CancellationToken cancellationToken)
    {
        var quoted = Quote(value);
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetTxtAsync(zoneId, name, cancellationToken).ConfigureAwait(false);
            var present = current?.Values.Contains(quoted) ?? false;
            if (present == add)
            {
                return null;
            }

            var changes = new List<XElement>();
            if (current is not null)
            {
                changes.Add(Change("DELETE", name, current.Ttl, current.Values));
            }

            var next = add ? [.. current?.Values ?? [], quoted] : current!.Values.Where(v => v != quoted).ToList();
            if (next.Count > 0)
            {
                // A shorter TTL than the set had keeps resolvers from caching the old set long; never a longer one.
                changes.Add(Change("CREATE", name, add ? Math.Min(options.CurrentValue.Ttl, current?.Ttl ?? long.MaxValue) : current!.Ttl, next));
            }

            try
            {
                return await ChangeAsync(zoneId, changes, $"Sndctl.Provisioning DNS-01 {(add ? "add" : "remove")} at {name}", cancellationToken).ConfigureAwait(false);
            }
            catch (Route53ApiException ex) when (IsConflict(ex) && attempt < MaxConflictRetries)
            {
                Log.Conflict(logger, name, attempt + 1);
                await Task.Delay(TimeSpan.FromMilliseconds(_random.Next(20, 200)), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Makes the A and AAAA sets at <paramref name="name"/> exactly the given addresses in one change batch:
    /// UPSERT for a family with addresses, DELETE of the current set (read first: a DELETE must match it) for a
    /// family without. Returns the change ID, or null when nothing had to change.
    /// </summary>
    public async Task<string?> SetAddressesAsync(string zoneId, string name, IReadOnlyList<System.Net.IPAddress> addresses, long ttl, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var changes = new List<XElement>();
            foreach (var (type, family) in (IEnumerable<(string, System.Net.Sockets.AddressFamily)>)[("A", System.Net.Sockets.AddressFamily.InterNetwork), ("AAAA", System.Net.Sockets.AddressFamily.InterNetworkV6)])
            {
                var wanted = addresses.Where(a => a.AddressFamily == family).Select(a => a.ToString()).ToList();
                if (wanted.Count > 0)
                {
                    changes.Add(Change("UPSERT", name, ttl, wanted, type));
                }
                else if (await GetRecordSetAsync(zoneId, name, type, cancellationToken).ConfigureAwait(false) is { } current)
                {
                    changes.Add(Change("DELETE", name, current.Ttl, current.Values, type));
                }
            }

            if (changes.Count == 0)
            {
                return null;
            }

            try
            {
                return await ChangeAsync(zoneId, changes, $"Sndctl.Provisioning addresses of {name}", cancellationToken).ConfigureAwait(false);
            }
            catch (Route53ApiException ex) when (IsConflict(ex) && attempt < MaxConflictRetries)
            {
                // The set to delete changed meanwhile (another instance): read again.
                Log.Conflict(logger, name, attempt + 1);
                await Task.Delay(TimeSpan.FromMilliseconds(_random.Next(20, 200)), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string> ChangeAsync(string zoneId, List<XElement> changes, string comment, CancellationToken cancellationToken)
    {
        var request = new XDocument(
            new XElement(
                Ns + "ChangeResourceRecordSetsRequest",
                new XElement(Ns + "ChangeBatch", new XElement(Ns + "Comment", comment), new XElement(Ns + "Changes", changes))));
        var response = await SendAsync(
            HttpMethod.Post,
            $"hostedzone/{Uri.EscapeDataString(zoneId)}/rrset",
            request,
            $"changing records in hosted zone {zoneId}",
            "route53:ChangeResourceRecordSets",
            cancellationToken).ConfigureAwait(false);
        return BareId((string)response.Root!.Element(Ns + "ChangeInfo")!.Element(Ns + "Id")!);
    }

    /// <summary>The status of a change: <c>PENDING</c> or <c>INSYNC</c>.</summary>
    public async Task<string> GetChangeStatusAsync(string changeId, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, $"change/{Uri.EscapeDataString(changeId)}", null, $"reading the status of change {changeId}", "route53:GetChange", cancellationToken).ConfigureAwait(false);
        return (string)response.Root!.Element(Ns + "ChangeInfo")!.Element(Ns + "Status")!;
    }

    /// <summary>Polls <c>GetChange</c> until the change is <c>INSYNC</c> on all Route53 nameservers.</summary>
    public async Task WaitForSyncAsync(string changeId, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var deadline = time.GetUtcNow() + settings.SyncTimeout;
        while (await GetChangeStatusAsync(changeId, cancellationToken).ConfigureAwait(false) != "INSYNC")
        {
            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"Route53 change {changeId} was still PENDING after {settings.SyncTimeout.TotalSeconds:0} s (SyncTimeout); Route53 usually syncs within 60 s.");
            }

            await Task.Delay(settings.SyncPollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One signed API call. Throttled and failing answers (429, 5xx, <c>Throttling</c>, <c>PriorRequestNotComplete</c>)
    /// are retried by the client's resilience handler (<see cref="DnsProviderResilience"/>), which also bounds each
    /// attempt by <see cref="Route53DnsOptions.RequestTimeout"/>; a retried request keeps its signature (valid for 5 minutes).
    /// </summary>
    private async Task<XDocument> SendAsync(HttpMethod method, string relative, XDocument? body, string what, string permission, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var credentials = await credentialChain.GetAsync(cancellationToken).ConfigureAwait(false);
        var bytes = body is null ? [] : Serialize(body);
        using var request = new HttpRequestMessage(method, new Uri(BaseUrl(settings), "2013-04-01/" + relative));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.ContentType = Xml;
        }

        AwsSignatureV4.Sign(request, bytes, credentials, settings.SigningRegion, Service, time.GetUtcNow());
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            throw new TimeoutException($"Route53 did not answer within {settings.RequestTimeout.TotalSeconds:0.#} s while {what}.", ex);
        }

        using (response)
        {
            var content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return Parse(content) ?? throw new Route53ApiException($"Route53 answered {(int)response.StatusCode} with a body that is not XML while {what}.", response.StatusCode, "InvalidResponse", [], RequestId(response, null));
            }

            var error = ParseError(response, content);
            throw new Route53ApiException(Describe(response.StatusCode, error, what, permission), response.StatusCode, error.Code, error.Messages, error.RequestId);
        }
    }

    /// <summary>The error code of a failed answer (for the resilience handler: what it logs, and whether it is throttling).</summary>
    internal static async ValueTask<string?> ErrorCodeAsync(HttpResponseMessage response)
        => response.IsSuccessStatusCode ? null : ParseError(response, await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false)).Code;

    /// <summary>The error codes with which Route53 says "slow down" on a 400.</summary>
    internal static IReadOnlySet<string> ThrottlingCodes => Throttled;

    private static (string Code, List<string> Messages, string? RequestId) ParseError(HttpResponseMessage response, byte[] content)
    {
        var root = Parse(content)?.Root;
        return root?.Name.LocalName switch
        {
            "ErrorResponse" => (
                (string?)root.Element(Ns + "Error")?.Element(Ns + "Code") ?? (string?)root.Element("Error")?.Element("Code") ?? $"HTTP{(int)response.StatusCode}",
                [.. new[] { (string?)root.Element(Ns + "Error")?.Element(Ns + "Message") ?? (string?)root.Element("Error")?.Element("Message") }.OfType<string>()],
                RequestId(response, (string?)root.Element(Ns + "RequestId") ?? (string?)root.Element("RequestId"))),
            "InvalidChangeBatch" => (
                "InvalidChangeBatch",
                [.. root.Descendants().Where(e => e.Name.LocalName == "Message").Select(e => e.Value.Trim())],
                RequestId(response, (string?)root.Element(Ns + "RequestId"))),
            _ => ($"HTTP{(int)response.StatusCode}", [], RequestId(response, null)),
        };
    }

    private static string Describe(HttpStatusCode status, (string Code, List<string> Messages, string? RequestId) error, string what, string permission)
    {
        var said = error.Messages.Count == 0 ? string.Empty : " AWS said: " + string.Join("; ", error.Messages);
        var request = error.RequestId is null ? string.Empty : $" (request {error.RequestId})";
        return error.Code switch
        {
            "AccessDenied" or "AccessDeniedException" => $"The AWS identity is not allowed to do this (AccessDenied) while {what}: its IAM policy needs {permission} (see docs/dns.md for the least-privilege policy).{said}{request}",
            var code when BadCredentials.Contains(code) => $"Route53 rejected the credentials ({code}) while {what}: check Provisioning:Dns:Route53:AccessKeyId and SecretAccessKey (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), the session token of temporary credentials, and this machine's clock.{said}{request}",
            "NoSuchHostedZone" => $"The hosted zone does not exist (NoSuchHostedZone) while {what}: check Provisioning:Dns:Route53:HostedZoneId, or leave it empty to find the zone by name.{said}{request}",
            var code when Throttled.Contains(code) => $"Route53 kept throttling ({code}) while {what}, after every retry.{said}{request}",
            _ => $"Route53 answered {(int)status} {error.Code} while {what}.{said}{request}",
        };
    }

    private static bool IsConflict(Route53ApiException ex)
        => ex.Code == "InvalidChangeBatch" && ex.AwsMessages.Any(m => m.Contains("not found", StringComparison.OrdinalIgnoreCase) || m.Contains("already exists", StringComparison.OrdinalIgnoreCase));

    private static XElement Change(string action, string name, long ttl, IEnumerable<string> values, string type = "TXT") => new(
        Ns + "Change",
        new XElement(Ns + "Action", action),
        new XElement(
            Ns + "ResourceRecordSet",
            new XElement(Ns + "Name", Fqdn(name)),
            new XElement(Ns + "Type", type),
            new XElement(Ns + "TTL", ttl.ToString(CultureInfo.InvariantCulture)),
            new XElement(Ns + "ResourceRecords", values.Select(v => new XElement(Ns + "ResourceRecord", new XElement(Ns + "Value", v))))));

    private static byte[] Serialize(XDocument document)
    {
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false) }))
        {
            document.Save(writer);
        }

        return stream.ToArray();
    }

    private static XDocument? Parse(byte[] content)
    {
        try
        {
            using var stream = new MemoryStream(content);
            using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return XDocument.Load(reader);
        }
        catch (XmlException)
        {
            return null; // Not AWS's XML (a proxy's error page): described by status.
        }
    }

    private static string? RequestId(HttpResponseMessage response, string? fromBody)
        => fromBody ?? (response.Headers.TryGetValues("x-amzn-RequestId", out var values) ? values.FirstOrDefault() : null);

    private static Uri BaseUrl(Route53DnsOptions settings)
        => settings.ServiceUrl.AbsoluteUri.EndsWith('/') ? settings.ServiceUrl : new Uri(settings.ServiceUrl.AbsoluteUri + "/");

    /// <summary><c>/hostedzone/Z1</c> and <c>/change/C1</c> become <c>Z1</c> and <c>C1</c>.</summary>
    public static string BareId(string id) => id[(id.LastIndexOf('/') + 1)..];

    private static string Fqdn(string name) => name.TrimEnd('.') + ".";

    private static string Quote(string value) => "\"" + value + "\"";

    /// <summary>Route53 names end with a dot and escape unusual characters as <c>\ooo</c> (octal).</summary>
    public static bool SameName(string? route53Name, string name) => route53Name is not null && string.Equals(Unescape(route53Name).TrimEnd('.'), name.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    private static string Unescape(string name)
    {
        if (!name.Contains('\\', StringComparison.Ordinal))
        {
            return name;
        }

        var builder = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '\\' && i + 3 < name.Length && IsOctal(name[i + 1]) && IsOctal(name[i + 2]) && IsOctal(name[i + 3]))
            {
                builder.Append((char)(((name[i + 1] - '0') * 64) + ((name[i + 2] - '0') * 8) + (name[i + 3] - '0')));
                i += 3;
            }
            else
            {
                builder.Append(name[i]);
            }
        }

        return builder.ToString();

        static bool IsOctal(char c) => c is >= '0' and <= '7';
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Debug, "The TXT set at {Name} changed while we changed it (another writer); reading it again (attempt {Attempt}).")]
        public static partial void Conflict(ILogger logger, string name, int attempt);
    }
}

/// <summary>A TXT record set as Route53 holds it: TTL and quoted values.</summary>
internal sealed record TxtRecordSet(long Ttl, List<string> Values);
