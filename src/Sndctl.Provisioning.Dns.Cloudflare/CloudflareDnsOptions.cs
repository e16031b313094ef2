namespace Sndctl.Provisioning.Dns.Cloudflare;

/// <summary>Options of the Cloudflare DNS provider.</summary>
public sealed class CloudflareDnsOptions
{
    /// <summary>
    /// An API token (not the global API key) with <b>Zone:Read</b> and <b>DNS:Edit</b> on the zone that
    /// holds the device hostnames. Required. Keep it in a secret store.
    /// </summary>
    public string? ApiToken { get; set; }

    /// <summary>The zone's ID; found from the record name (longest matching zone) when empty.</summary>
    public string? ZoneId { get; set; }

    /// <summary>The API base URL. Default <c>https://api.cloudflare.com/client/v4/</c>.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.cloudflare.com/client/v4/");

    /// <summary>TTL of the TXT records, seconds (60 is Cloudflare's minimum besides 1 = automatic). Default 60.</summary>
    public int Ttl { get; set; } = 60;

    /// <summary>Longest wait for one API call. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a 429 or 5xx answer is retried (with backoff, honouring <c>Retry-After</c>). Default 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>Check the token and the zone at start-up and log what is wrong. Default true.</summary>
    public bool VerifyOnStart { get; set; } = true;
}
