namespace Sndctl.Provisioning.AcmeServer;

/// <summary>The ACME front door's settings (<c>Provisioning:AcmeServer</c> in the reference host).</summary>
public sealed class AcmeServerOptions
{
    /// <summary>How long a nonce is accepted after it was issued (1 minute to 1 day). Used nonces are kept this long.</summary>
    public TimeSpan NonceLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long an order may take from being placed to being finalized (1 hour to 30 days).</summary>
    public TimeSpan OrderLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long finalize waits for the issuance before answering the order <c>processing</c> with Retry-After
    /// (0 to 25 seconds: ACME clients time out a request at 30 s). The issuance goes on either way.
    /// </summary>
    public TimeSpan FinalizeWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The Retry-After of a processing order while the issuance runs.</summary>
    public TimeSpan ProcessingRetryAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Accounts one device may hold (1 to 100); a new one beyond replaces its oldest (a device reset makes a new key).</summary>
    public int MaxAccountsPerDevice { get; set; } = 10;

    /// <summary>Orders not yet decided one device may hold (1 to 100); a new one beyond ends its oldest.</summary>
    public int MaxOpenOrdersPerDevice { get; set; } = 10;
}
