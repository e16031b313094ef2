using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sndctl.Provisioning.Dns.Route53.Internal;

/// <summary>
/// AWS Signature Version 4 for HTTP requests (header form): canonical request, string to sign,
/// derived signing key, <c>Authorization</c> header. Written from AWS's specification and checked
/// against its published examples.
/// </summary>
internal static class AwsSignatureV4
{
    private const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// Signs <paramref name="request"/> in place: adds <c>X-Amz-Date</c>, <c>X-Amz-Security-Token</c> (with
    /// temporary credentials) and <c>Authorization</c>. Signs the <c>Host</c> header, every <c>X-Amz-*</c>
    /// header and <c>Content-Type</c>.
    /// </summary>
    public static void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, AwsCredentials credentials, string region, string service, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credentials);
        var uri = request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request));
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        request.Headers.Remove("X-Amz-Date");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (credentials.SessionToken is { } token)
        {
            request.Headers.Remove("X-Amz-Security-Token");
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        }

        var headers = new List<KeyValuePair<string, string>> { new("host", uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}") };
        foreach (var header in request.Headers.Where(h => h.Key.StartsWith("X-Amz-", StringComparison.OrdinalIgnoreCase)))
        {
            headers.Add(new(header.Key, string.Join(',', header.Value)));
        }

        if (request.Content?.Headers.ContentType is { } contentType)
        {
            headers.Add(new("content-type", contentType.ToString()));
        }

        var payloadHash = HexSha256(body);
        var (canonical, signedHeaders) = CanonicalRequest(request.Method.Method, uri.AbsolutePath, uri.Query, headers, payloadHash);
        var signature = Signature(credentials.SecretAccessKey, amzDate, region, service, canonical);
        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"{Algorithm} Credential={credentials.AccessKeyId}/{Scope(amzDate, region, service)}, SignedHeaders={signedHeaders}, Signature={signature}");
    }

    /// <summary>
    /// The canonical request and the signed-header list: method, canonical URI (each path segment
    /// URI-encoded), canonical query (sorted, encoded), canonical headers (lower-case names,
    /// trimmed values with runs of spaces collapsed, sorted), signed headers, payload hash.
    /// </summary>
    public static (string CanonicalRequest, string SignedHeaders) CanonicalRequest(
        string method, string escapedPath, string query, IEnumerable<KeyValuePair<string, string>> headers, string payloadHash)
    {
        var grouped = headers
            .GroupBy(h => h.Key.ToLowerInvariant(), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Value: string.Join(',', g.Select(h => Trim(h.Value)))))
            .ToList();
        var signedHeaders = string.Join(';', grouped.Select(h => h.Name));
        var builder = new StringBuilder()
            .Append(method).Append('\n')
            .Append(CanonicalUri(escapedPath)).Append('\n')
            .Append(CanonicalQuery(query)).Append('\n');
        foreach (var (name, value) in grouped)
        {
            builder.Append(name).Append(':').Append(value).Append('\n');
        }

        builder.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        return (builder.ToString(), signedHeaders);
    }

    /// <summary>The string to sign: algorithm, date-time, scope, hex SHA-256 of the canonical request.</summary>
    public static string StringToSign(string amzDate, string region, string service, string canonicalRequest)
        => $"{Algorithm}\n{amzDate}\n{Scope(amzDate, region, service)}\n{HexSha256(Encoding.UTF8.GetBytes(canonicalRequest))}";

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] SigningKey(string secretAccessKey, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretAccessKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    /// <summary>The hex signature of a canonical request.</summary>
    public static string Signature(string secretAccessKey, string amzDate, string region, string service, string canonicalRequest)
    {
        var key = SigningKey(secretAccessKey, amzDate[..8], region, service);
        return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(StringToSign(amzDate, region, service, canonicalRequest))));
    }

    /// <summary>Lower-case hex SHA-256.</summary>
    public static string HexSha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static string Scope(string amzDate, string region, string service) => $"{amzDate[..8]}/{region}/{service}/aws4_request";

    private static string CanonicalUri(string escapedPath)
    {
        if (string.IsNullOrEmpty(escapedPath))
        {
            return "/";
        }

        // Each segment decoded from how it travels, then encoded the AWS way (upper-case hex, RFC 3986 unreserved kept).
        return string.Join('/', escapedPath.Split('/').Select(segment => Encode(Uri.UnescapeDataString(segment))));
    }

    private static string CanonicalQuery(string query)
    {
        if (string.IsNullOrEmpty(query) || query == "?")
        {
            return string.Empty;
        }

        var pairs = query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair =>
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
                var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
                return (Name: Encode(name), Value: Encode(value));
            })
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal);
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    /// <summary>RFC 3986 encoding as AWS specifies it: unreserved characters kept, every other byte as %XX (upper-case hex).</summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string Trim(string value) => string.Join(' ', value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
}
