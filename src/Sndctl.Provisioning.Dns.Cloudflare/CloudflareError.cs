
namespace Sndctl.Provisioning.Dns.Cloudflare;

/// <summary>One entry of Cloudflare's <c>errors</c> array.</summary>
/// <param name="Code">Cloudflare's error code, e.g. 10000 (authentication error) or 81058 (identical record exists).</param>
/// <param name="Message">Cloudflare's message.</param>
public sealed record CloudflareError(int Code, string Message);
