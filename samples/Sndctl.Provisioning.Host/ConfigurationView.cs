using Microsoft.Extensions.Primitives;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// A live view of a configuration section without some of its children: the <c>Provisioning</c>
/// section holds the core options' keys beside the sections of other packages and the host's own
/// keys, and the core options refuse keys they do not know.
/// </summary>
internal sealed class ConfigurationView(IConfigurationSection inner, IReadOnlyCollection<string> hidden) : IConfigurationSection
{
    public string? this[string key]
    {
        get => IsHidden(key) ? null : inner[key];
        set => inner[key] = value;
    }

    public string Key => inner.Key;

    public string Path => inner.Path;

    public string? Value
    {
        get => inner.Value;
        set => inner.Value = value;
    }

    public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren().Where(c => !IsHidden(c.Key));

    public IChangeToken GetReloadToken() => inner.GetReloadToken();

    public IConfigurationSection GetSection(string key) => IsHidden(key) ? inner.GetSection("\0hidden") : inner.GetSection(key);

    private bool IsHidden(string key)
    {
        var first = key.Split(ConfigurationPath.KeyDelimiter, 2)[0];
        return hidden.Contains(first, StringComparer.OrdinalIgnoreCase);
    }
}
