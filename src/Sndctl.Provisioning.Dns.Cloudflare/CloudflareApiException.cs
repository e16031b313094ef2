using System.Net;

namespace Sndctl.Provisioning.Dns.Cloudflare;

/// <summary>The Cloudflare API answered <c>success: false</c> or an error status.</summary>
public sealed class CloudflareApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CloudflareApiException(string message, HttpStatusCode statusCode, IReadOnlyList<CloudflareError> errors)
        : base(message)
    {
        StatusCode = statusCode;
        Errors = errors;
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>Cloudflare's <c>errors</c> array.</summary>
    public IReadOnlyList<CloudflareError> Errors { get; }
}
