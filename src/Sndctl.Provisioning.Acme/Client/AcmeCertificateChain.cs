
namespace Sndctl.Provisioning.Acme;

/// <summary>A downloaded certificate chain.</summary>
/// <param name="Pem">PEM: the leaf first, then the intermediates.</param>
/// <param name="Alternates">URLs of the alternate chains the CA offered (<c>Link: rel="alternate"</c>).</param>
public sealed record AcmeCertificateChain(string Pem, IReadOnlyList<Uri> Alternates);
