using System.Text.Json.Serialization;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal.PrivateCa;

/// <summary>The body of <c>POST /api/v1/csr</c> (the SMSGate CA client's shape).</summary>
internal sealed record CsrSubmitRequest(string? Content, string? Type, Dictionary<string, string>? Metadata);

/// <summary>The body of <c>POST /api/admin/csr/{id}/deny</c>.</summary>
internal sealed record CsrDenyRequest(string? Reason);

/// <summary>The SMSGate CA client's response shape.</summary>
internal sealed record CsrResponse(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("certificate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Certificate)
{
    public static CsrResponse From(CsrRequest request) => new(
        request.Id,
        CsrNames.Status(request.Status),
        request.Message ?? string.Empty,
        request.Status == CsrRequestStatus.Approved ? request.CertificatePem : null);
}

/// <summary>A CSR request as admins see it.</summary>
internal sealed record CsrAdminItem(
    string RequestId,
    string Type,
    string Status,
    string? Message,
    string? IpAddress,
    string? ClientAddress,
    IDictionary<string, string> Metadata,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? DecidedAt,
    string? DecidedBy,
    string? SerialNumber,
    DateTimeOffset? NotAfter,
    DateTimeOffset? RevokedAt)
{
    public static CsrAdminItem From(CsrRequest r) => new(
        r.Id, CsrNames.Type(r.Type), CsrNames.Status(r.Status), r.Message, r.IpAddress, r.ClientAddress, r.Metadata,
        r.SubmittedAt, r.DecidedAt, r.DecidedBy, r.SerialNumber, r.NotAfter, r.RevokedAt);
}

/// <summary>The wire names of CSR types and statuses.</summary>
internal static class CsrNames
{
    public static string Type(CsrCertificateType type) => type == CsrCertificateType.Webhook ? "webhook" : "private_server";

    public static bool TryParseType(string? name, out CsrCertificateType type)
    {
        type = name == "private_server" ? CsrCertificateType.PrivateServer : CsrCertificateType.Webhook;
        return name is null or "webhook" or "private_server";
    }

    public static string Status(CsrRequestStatus status) => status switch
    {
        CsrRequestStatus.Approved => "approved",
        CsrRequestStatus.Denied => "denied",
        _ => "pending",
    };
}

[JsonSerializable(typeof(CsrSubmitRequest))]
[JsonSerializable(typeof(CsrDenyRequest))]
[JsonSerializable(typeof(CsrResponse))]
[JsonSerializable(typeof(CsrAdminItem))]
[JsonSerializable(typeof(PageResponse<CsrAdminItem>))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, MaxDepth = 8)]
internal sealed partial class CsrJsonContext : JsonSerializerContext;
