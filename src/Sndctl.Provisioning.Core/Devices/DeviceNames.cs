using System.Buffers.Text;
using System.Security.Cryptography;

namespace Sndctl.Provisioning.Core;

/// <summary>The rules for device IDs, hostnames and secrets.</summary>
public static class DeviceNames
{
    /// <summary>Longest device ID: one DNS label.</summary>
    public const int MaxDeviceIdLength = 63;

    /// <summary>Length of generated device IDs (lower-case hex).</summary>
    public const int GeneratedDeviceIdLength = 12;

    /// <summary>Longest accepted device secret, in characters.</summary>
    public const int MaxSecretLength = 256;

    /// <summary>
    /// Whether <paramref name="deviceId"/> is a lower-case DNS label:
    /// <c>[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?</c>.
    /// </summary>
    public static bool IsValidDeviceId(string? deviceId)
    {
        if (string.IsNullOrEmpty(deviceId) || deviceId.Length > MaxDeviceIdLength)
        {
            return false;
        }

        if (deviceId[0] == '-' || deviceId[^1] == '-')
        {
            return false;
        }

        foreach (var c in deviceId)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="domain"/> is a fully qualified lower-case DNS name of at least two labels
    /// that leaves room for a device label in front of it (at most 253 characters in all).
    /// </summary>
    public static bool IsValidBaseDomain(string? domain)
    {
        if (string.IsNullOrEmpty(domain) || domain.Length > 253 - MaxDeviceIdLength - 1)
        {
            return false;
        }

        var labels = domain.Split('.');
        if (labels.Length < 2)
        {
            return false;
        }

        return labels.All(IsValidDeviceId);
    }

    /// <summary>The hostname of a device: <c>&lt;deviceId&gt;.&lt;baseDomain&gt;</c>.</summary>
    public static string Hostname(string deviceId, string baseDomain) => deviceId + "." + baseDomain;

    /// <summary>
    /// A new random device ID: 12 lower-case hex characters (48 random bits). Hostnames appear in
    /// Certificate Transparency logs, so an ID never encodes a serial number or anything guessable.
    /// IDs a spreadsheet would read as a number (all digits, or digits 'e' digits) are drawn again,
    /// so the factory-line CSV opens intact.
    /// </summary>
    public static string NewDeviceId()
    {
        while (true)
        {
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(GeneratedDeviceIdLength / 2));
            if (!LooksNumeric(id))
            {
                return id;
            }
        }
    }

    /// <summary>
    /// A new device secret: 256 random bits, base64url (43 characters). Secrets starting with '-' are
    /// drawn again: spreadsheets read them as formulas and command lines as options.
    /// </summary>
    public static string NewSecret()
    {
        while (true)
        {
            var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            if (secret[0] != '-')
            {
                return secret;
            }
        }
    }

    internal static bool LooksNumeric(string id)
    {
        var exponent = id.IndexOf('e', StringComparison.Ordinal);
        return exponent < 0
            ? id.All(char.IsAsciiDigit)
            : exponent > 0 && exponent < id.Length - 1 && id.AsSpan(0, exponent).IndexOfAnyExceptInRange('0', '9') < 0
                && id.AsSpan(exponent + 1).IndexOfAnyExceptInRange('0', '9') < 0;
    }
}
