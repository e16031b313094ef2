
namespace Sndctl.Provisioning.Acme;

/// <summary>The problem types of RFC 8555 §6.7 and RFC 9773.</summary>
public static class AcmeErrorTypes
{
    /// <summary>The URN prefix of ACME error types.</summary>
    public const string Prefix = "urn:ietf:params:acme:error:";

    /// <summary>The account does not exist (answer to <c>onlyReturnExisting</c>).</summary>
    public const string AccountDoesNotExist = Prefix + "accountDoesNotExist";

    /// <summary>The nonce was unknown, used or rejected; retry with the fresh one.</summary>
    public const string BadNonce = Prefix + "badNonce";

    /// <summary>A rate limit was reached; see <c>Retry-After</c>.</summary>
    public const string RateLimited = Prefix + "rateLimited";

    /// <summary>The client lacks authorization.</summary>
    public const string Unauthorized = Prefix + "unauthorized";

    /// <summary>The request was malformed.</summary>
    public const string Malformed = Prefix + "malformed";

    /// <summary>The CA requires an External Account Binding.</summary>
    public const string ExternalAccountRequired = Prefix + "externalAccountRequired";

    /// <summary>The CA refuses the identifier by policy.</summary>
    public const string RejectedIdentifier = Prefix + "rejectedIdentifier";

    /// <summary>The CA failed internally.</summary>
    public const string ServerInternal = Prefix + "serverInternal";

    /// <summary>The CSR is unacceptable.</summary>
    public const string BadCsr = Prefix + "badCSR";

    /// <summary>The order is not ready to finalize.</summary>
    public const string OrderNotReady = Prefix + "orderNotReady";

    /// <summary>The certificate named in <c>replaces</c> was already replaced (RFC 9773 §5).</summary>
    public const string AlreadyReplaced = Prefix + "alreadyReplaced";

    /// <summary>The certificate is already revoked.</summary>
    public const string AlreadyRevoked = Prefix + "alreadyRevoked";

    /// <summary>The DNS lookup of the challenge failed.</summary>
    public const string Dns = Prefix + "dns";

    /// <summary>The validation response was wrong.</summary>
    public const string IncorrectResponse = Prefix + "incorrectResponse";
}
