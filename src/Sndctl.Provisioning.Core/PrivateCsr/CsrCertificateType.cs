namespace Sndctl.Provisioning.Core;

/// <summary>The two kinds of private-IP certificate, each issued by its own intermediate.</summary>
public enum CsrCertificateType
{
    /// <summary><c>webhook</c>: a local webhook receiver.</summary>
    Webhook = 0,

    /// <summary><c>private_server</c>: a server on a private network.</summary>
    PrivateServer = 1,
}
