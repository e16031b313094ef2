namespace Sndctl.Provisioning.Acme;

/// <summary>Timing and retry behaviour of an <see cref="AcmeClient"/>.</summary>
public sealed class AcmeClientOptions
{
    /// <summary>Longest wait for one HTTP exchange with the CA. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times a request rejected with <c>badNonce</c> is sent again, each time with the fresh
    /// nonce the rejection carried (RFC 8555 §6.5). Default 3: CAs reject a share of valid nonces on
    /// purpose (Pebble 5 %), and with one retry about one request in 400 would still fail. Set 1 for
    /// the single retry most clients make.
    /// </summary>
    public int BadNonceRetries { get; set; } = 3;

    /// <summary>
    /// First wait when polling an authorization or order and the CA sent no <c>Retry-After</c>; each
    /// further wait is 1.5 times longer up to <see cref="PollMaxDelay"/>. Default 20 ms: validation
    /// usually takes milliseconds, and a fixed half-second sleep would dominate issuance time.
    /// </summary>
    public TimeSpan PollInitialDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Longest wait between polls without <c>Retry-After</c>. Default 2 s.</summary>
    public TimeSpan PollMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A CA's <c>Retry-After</c> while polling is honoured up to this long. Default 1 minute.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Fresh nonces kept for later requests. Default 64.</summary>
    public int NoncePoolSize { get; set; } = 64;

    /// <summary>The <c>User-Agent</c> sent with every request (RFC 8555 §6.1 asks clients to send one).</summary>
    public string UserAgent { get; set; } = "Sndctl.Provisioning.Acme/" + typeof(AcmeClient).Assembly.GetName().Version?.ToString(3);
}
