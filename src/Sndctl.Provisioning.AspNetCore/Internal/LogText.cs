namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>Text a client chose, made safe to log: control characters escaped (no forged log lines), length capped.</summary>
internal static class LogText
{
    private const int MaxLength = 200;

    public static string Of(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var text = value.Length > MaxLength ? value[..MaxLength] : value;
        if (text.AsSpan().IndexOfAnyInRange('\0', '\x1f') < 0 && !text.Contains('\x7f', StringComparison.Ordinal))
        {
            return value.Length > MaxLength ? text + "…" : text;
        }

        var builder = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                builder.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return value.Length > MaxLength ? builder.Append('…').ToString() : builder.ToString();
    }
}
