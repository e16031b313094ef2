using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Binds a configuration section to an options object with unknown keys refused, and turns the
/// binder's complaint into an options validation failure that names the key: start-up then stops
/// with one message per mistake instead of a stack trace, and a misspelt key is never silently ignored.
/// </summary>
internal static class StrictConfiguration
{
    /// <summary>The binding of one options type to one section (a marker a second call can find and replace).</summary>
    public sealed class Binding<TOptions>(IConfiguration section) : IConfigureOptions<TOptions>
        where TOptions : class
    {
        public void Configure(TOptions options) => Bind(section, options, Options.DefaultName);
    }

    public static void Bind<TOptions>(IConfiguration section, TOptions options, string name)
        where TOptions : class
    {
        try
        {
            section.Bind(options, b => b.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            var path = section is IConfigurationSection s ? s.Path : "(configuration root)";
            var unknown = UnknownKeys(section, typeof(TOptions)).Select(key => $"{path}:{key} is not a setting of {typeof(TOptions).Name}; check its spelling against docs/configuration.md.").ToList();
            throw new OptionsValidationException(name, typeof(TOptions), unknown.Count > 0 ? unknown : [$"{path}: {ex.Message}"]);
        }
    }

    private static IEnumerable<string> UnknownKeys(IConfiguration section, Type type)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                yield return child.Key;
            }
            else if (IsOptionsObject(property.PropertyType))
            {
                foreach (var nested in UnknownKeys(child, property.PropertyType))
                {
                    yield return child.Key + ":" + nested;
                }
            }
            else if (ElementOf(property.PropertyType) is { } element && IsOptionsObject(element))
            {
                // A list of options objects (Provisioning:Acme:Fallbacks:0:DirectoryUrl): each entry's keys.
                foreach (var entry in child.GetChildren())
                {
                    foreach (var nested in UnknownKeys(entry, element))
                    {
                        yield return child.Key + ":" + entry.Key + ":" + nested;
                    }
                }
            }
        }
    }

    private static Type? ElementOf(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(IList<>) || definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(ICollection<>) || definition == typeof(IEnumerable<>))
            ? type.GetGenericArguments()[0]
            : null;

    private static bool IsOptionsObject(Type type)
        => type.IsClass && type != typeof(string) && type != typeof(Uri) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type);
}
