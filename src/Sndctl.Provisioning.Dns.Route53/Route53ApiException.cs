using System.Net;

namespace Sndctl.Provisioning.Dns.Route53;

/// <summary>Route53 answered with an AWS error (<c>ErrorResponse/Error</c> or <c>InvalidChangeBatch</c>).</summary>
public sealed class Route53ApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public Route53ApiException(string message, HttpStatusCode statusCode, string code, IReadOnlyList<string> awsMessages, string? requestId)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
        AwsMessages = awsMessages;
        RequestId = requestId;
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>AWS's error code, e.g. <c>AccessDenied</c>, <c>Throttling</c>, <c>NoSuchHostedZone</c>, <c>InvalidChangeBatch</c>.</summary>
    public string Code { get; }

    /// <summary>AWS's messages (one, or one per rejected change of an <c>InvalidChangeBatch</c>).</summary>
    public IReadOnlyList<string> AwsMessages { get; }

    /// <summary>AWS's request ID, for a support case.</summary>
    public string? RequestId { get; }
}
