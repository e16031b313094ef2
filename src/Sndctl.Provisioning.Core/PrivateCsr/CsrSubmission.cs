using System.Net;

namespace Sndctl.Provisioning.Core;

/// <summary>A CSR as a client submits it to <see cref="ICsrService.SubmitAsync"/>.</summary>
/// <param name="Content">The PEM certificate signing request.</param>
/// <param name="Type">Which intermediate is to sign it.</param>
public sealed record CsrSubmission(string Content, CsrCertificateType Type = CsrCertificateType.Webhook)
{
    /// <summary>The client's own key/value pairs, kept with the request.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>The submitting client's address: submissions and waiting requests are limited per its network. Null from code that has none.</summary>
    public IPAddress? ClientAddress { get; init; }
}
