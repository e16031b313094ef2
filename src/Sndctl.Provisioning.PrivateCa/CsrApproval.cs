namespace Sndctl.Provisioning.PrivateCa;

/// <summary>How private-IP CSRs are approved.</summary>
public enum CsrApproval
{
    /// <summary>A CSR that passes the policy is signed at once; one that does not is denied.</summary>
    Auto = 0,

    /// <summary>A CSR that passes the policy waits (<c>pending</c>) for an admin to approve or deny it.</summary>
    Manual = 1,
}
