using System.Text.Json;
using System.Text.Json.Serialization;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal;

internal sealed record RegisterRequest(string? DeviceId, string? Csr, List<string?>? Addresses = null, string? Resolution = null);

internal sealed record RenewRequest(string? DeviceId, string? Hostname, string? Csr, List<string?>? Addresses = null, string? Resolution = null);

internal sealed record AddressesRequest(string? DeviceId, List<string?>? Addresses, string? Resolution = null);

internal sealed record DeviceSecretRequest(string? DeviceId);

internal sealed record DeviceSecretResponse(string DeviceId, string Hostname, string Secret);

internal sealed record AddressesResponse(string DeviceId, string Hostname, IReadOnlyList<string> Addresses);

internal sealed record ProvisionResponse(
    string DeviceId,
    string Hostname,
    string Certificate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrivateKey,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset RenewAfter,
    IReadOnlyList<string> Addresses);

internal sealed record PendingResponse(
    string DeviceId,
    string Status,
    int RetryAfterSeconds,
    string Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? QueuePosition = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? EstimatedAt = null);

internal sealed record CreateDeviceRequest(string? DeviceId, Dictionary<string, string>? Labels);

internal sealed record CreateBatchRequest(int? Count, Dictionary<string, string>? Labels);

internal sealed record CreatedDeviceResponse(string DeviceId, string Secret, string Hostname, string Status, DateTimeOffset CreatedAt);

internal sealed record BatchDevice(string DeviceId, string Secret, string Hostname);

internal sealed record BatchResponse(IReadOnlyList<BatchDevice> Devices);

internal sealed record CertificateSummary(string SerialNumber, DateTimeOffset NotBefore, DateTimeOffset NotAfter, DateTimeOffset RenewAfter);

internal sealed record DeviceListItem(
    string DeviceId,
    string Hostname,
    string Status,
    IDictionary<string, string> Labels,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RegisteredAt,
    DateTimeOffset? LastSeenAt,
    CertificateSummary? Certificate,
    bool FactorySecret,
    string Resolution);

internal sealed record PageResponse<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);

internal sealed record CertificateHistoryItem(
    string SerialNumber,
    string Issuer,
    string Thumbprint,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset RenewAfter,
    DateTimeOffset IssuedAt,
    DateTimeOffset? RevokedAt,
    bool Current,
    string? CertificateAuthority);

internal sealed record EventItem(long Id, DateTimeOffset Timestamp, string? DeviceId, string Actor, string Type, string? Details);

internal sealed record DeviceDetailsResponse(
    string DeviceId,
    string Hostname,
    string Status,
    IDictionary<string, string> Labels,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RegisteredAt,
    DateTimeOffset? LastSeenAt,
    IReadOnlyList<string> Addresses,
    CertificateSummary? Certificate,
    IReadOnlyList<CertificateHistoryItem> Certificates,
    IReadOnlyList<EventItem> Events,
    bool FactorySecret,
    DateTimeOffset? SecretChangedAt,
    bool SecretRotationPending,
    string Resolution,
    DateTimeOffset? ResolutionReportedAt);

internal sealed record DeviceStatusResponse(string DeviceId, string Status);

internal sealed record BudgetDomain(string RegisteredDomain, int Limit, int Used, long WindowSeconds, DateTimeOffset NextSlotAt);

internal sealed record BudgetQueue(int Depth, DateTimeOffset? DrainsAt);

internal sealed record BudgetResponse(IReadOnlyList<BudgetDomain> Domains, BudgetQueue Queue, BudgetRenewals Renewals);

internal sealed record BudgetRenewals(int DueThisWeek);

internal sealed record SecretResponse(string Secret);

internal sealed record RevokeResponse(string DeviceId, string SerialNumber, DateTimeOffset RevokedAt);

internal sealed record StatisticsResponse(
    IReadOnlyDictionary<string, int> DevicesByStatus,
    int Total,
    int ExpiringWithin7Days,
    int ExpiringWithin30Days,
    IReadOnlyDictionary<string, int> DevicesByResolution,
    int DevicesWithFactorySecret,
    DateTimeOffset? EarliestCertificateExpiry);

internal sealed record HealthResponse(string Status, IReadOnlyDictionary<string, HealthEntry> Checks, double DurationMs);

internal sealed record HealthEntry(
    string Status,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Description);

// Web defaults, but numbers are numbers: {"count":"5"} is a wrong type (400), not 5.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RenewRequest))]
[JsonSerializable(typeof(AddressesRequest))]
[JsonSerializable(typeof(AddressesResponse))]
[JsonSerializable(typeof(ProvisionResponse))]
[JsonSerializable(typeof(PendingResponse))]
[JsonSerializable(typeof(CreateDeviceRequest))]
[JsonSerializable(typeof(CreateBatchRequest))]
[JsonSerializable(typeof(CreatedDeviceResponse))]
[JsonSerializable(typeof(BatchResponse))]
[JsonSerializable(typeof(PageResponse<DeviceListItem>))]
[JsonSerializable(typeof(PageResponse<EventItem>))]
[JsonSerializable(typeof(EventItem))]
[JsonSerializable(typeof(DeviceDetailsResponse))]
[JsonSerializable(typeof(DeviceStatusResponse))]
[JsonSerializable(typeof(BudgetResponse))]
[JsonSerializable(typeof(SecretResponse))]
[JsonSerializable(typeof(DeviceSecretRequest))]
[JsonSerializable(typeof(DeviceSecretResponse))]
[JsonSerializable(typeof(RevokeResponse))]
[JsonSerializable(typeof(StatisticsResponse))]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class ProvisioningJsonContext : JsonSerializerContext;

internal static class StatusNames
{
    public static string Of(DeviceStatus status) => status switch
    {
        DeviceStatus.Pending => "pending",
        DeviceStatus.Active => "active",
        DeviceStatus.Disabled => "disabled",
        _ => status.ToString().ToLowerInvariant(),
    };

    public static bool TryParse(string? value, out DeviceStatus status)
    {
        switch (value)
        {
            case "pending": status = DeviceStatus.Pending; return true;
            case "active": status = DeviceStatus.Active; return true;
            case "disabled": status = DeviceStatus.Disabled; return true;
            default: status = default; return false;
        }
    }
}

/// <summary>The wire names of <see cref="DeviceNameResolution"/>: what a device reports (<c>ok</c>, <c>blocked</c>, <c>other</c>) and <c>unknown</c>.</summary>
internal static class ResolutionNames
{
    public static string Of(DeviceNameResolution resolution) => resolution switch
    {
        DeviceNameResolution.Ok => "ok",
        DeviceNameResolution.Blocked => "blocked",
        DeviceNameResolution.Other => "other",
        _ => "unknown",
    };

    public static bool TryParse(string? value, out DeviceNameResolution resolution)
    {
        resolution = value switch
        {
            "unknown" => DeviceNameResolution.Unknown,
            "ok" => DeviceNameResolution.Ok,
            "blocked" => DeviceNameResolution.Blocked,
            "other" => DeviceNameResolution.Other,
            _ => (DeviceNameResolution)(-1),
        };
        return Enum.IsDefined(resolution);
    }
}
