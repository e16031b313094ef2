namespace Sndctl.Provisioning.Acme;

/// <summary>The status values of ACME objects (RFC 8555 §7.1.6): orders, authorizations and challenges.</summary>
public static class AcmeStatus
{
    /// <summary>Waiting: for the client (authorization, challenge) or for the CA to check.</summary>
    public const string Pending = "pending";

    /// <summary>The CA is validating a challenge or issuing a certificate; poll again.</summary>
    public const string Processing = "processing";

    /// <summary>An order whose authorizations are all valid: it may be finalized.</summary>
    public const string Ready = "ready";

    /// <summary>Done: authorized, or (order) the certificate is ready to download.</summary>
    public const string Valid = "valid";

    /// <summary>Failed for good: a new order is needed.</summary>
    public const string Invalid = "invalid";

    /// <summary>An authorization the client gave up.</summary>
    public const string Deactivated = "deactivated";

    /// <summary>An authorization that expired before use.</summary>
    public const string Expired = "expired";

    /// <summary>An authorization the CA revoked.</summary>
    public const string Revoked = "revoked";
}
