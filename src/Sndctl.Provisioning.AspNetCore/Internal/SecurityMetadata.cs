namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>Marks an endpoint that a device calls with its ID and secret (<c>X-Device-Secret</c>), for the OpenAPI description.</summary>
internal sealed class DeviceCredentialsMetadata
{
    public static readonly DeviceCredentialsMetadata Instance = new();
}

/// <summary>Marks an endpoint closed to all but admin API keys (<c>Authorization: Bearer</c>), for the OpenAPI description.</summary>
internal sealed class AdminKeyMetadata
{
    public static readonly AdminKeyMetadata Instance = new();
}
