namespace Sndctl.Provisioning.Core;

/// <summary>States of a CSR request: <c>pending</c> → <c>approved</c> | <c>denied</c>.</summary>
public enum CsrRequestStatus
{
    /// <summary>Waiting for an admin (manual approval).</summary>
    Pending = 0,

    /// <summary>Signed; the certificate is available.</summary>
    Approved = 1,

    /// <summary>Refused, with the reason in <see cref="CsrRequest.Message"/>.</summary>
    Denied = 2,
}
