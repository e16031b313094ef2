using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Binds configuration sections to options objects with unknown keys refused, and turns a mistake into
/// an options validation failure that names the key: start-up then stops with one message per mistake
/// instead of a stack trace, and a misspelt key is never silently ignored.
/// </summary>
/// <remarks>
/// Sections nest: the core options sit directly under <c>Provisioning</c> beside <c>Provisioning:Acme</c>
/// (the ACME package's) and the host's own keys. So every binding is a claim, one list per service
/// collection: a key is known when some binding's options type has a property for it, and a key nobody
/// claims is reported once, by the binding with the deepest section that holds it. No package, and no
/// host, keeps a table of the others' keys.
/// </remarks>
internal sealed class StrictConfiguration
{
    private readonly List<Claim> _claims = [];

    /// <summary>The claims of <paramref name="services"/>, registered on first use.</summary>
    public static StrictConfiguration Of(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(StrictConfiguration))?.ImplementationInstance is StrictConfiguration existing)
        {
            return existing;
        }

        var created = new StrictConfiguration();
        services.AddSingleton(created);
        return created;
    }

    /// <summary>Claims <paramref name="section"/> for <typeparamref name="TOptions"/>, replacing that type's previous claim.</summary>
    public IConfigureOptions<TOptions> Bind<TOptions>(IConfiguration section)
        where TOptions : class
    {
        lock (_claims)
        {
            _claims.RemoveAll(c => c.Options == typeof(TOptions));
            _claims.Add(new Claim(typeof(TOptions), PathOf(section)));
        }

        return new Binding<TOptions>(this, section);
    }

    /// <summary>The binding of one options type to one section (a marker a second call can find and replace).</summary>
    public sealed class Binding<TOptions>(StrictConfiguration claims, IConfiguration section) : IConfigureOptions<TOptions>
        where TOptions : class
    {
        public void Configure(TOptions options)
        {
            var path = PathOf(section);
            try
            {
                section.Bind(options);
            }
            catch (InvalidOperationException ex)
            {
                // A value that does not convert (MaxConcurrentOrders=many): the binder names key and type.
                throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), [$"{(path.Length == 0 ? "(configuration root)" : path)}: {ex.Message}"]);
            }

            var unknown = claims.UnknownKeys(typeof(TOptions), section, path)
                .Select(key => $"{key} is not a setting of {typeof(TOptions).Name}; check its spelling against docs/configuration.md.")
                .ToList();
            if (unknown.Count > 0)
            {
                throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), unknown);
            }
        }
    }

    private IEnumerable<string> UnknownKeys(Type options, IConfiguration section, string path)
    {
        Claim[] claims;
        lock (_claims)
        {
            claims = [.. _claims];
        }

        var self = Array.FindIndex(claims, c => c.Options == options);
        return Walk(section, path, options);

        IEnumerable<string> Walk(IConfiguration node, string nodePath, Type? type)
        {
            foreach (var child in node.GetChildren())
            {
                var childPath = nodePath.Length == 0 ? child.Key : nodePath + ConfigurationPath.KeyDelimiter + child.Key;
                var property = type?.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is not null)
                {
                    foreach (var nested in Within(child, childPath, property.PropertyType))
                    {
                        yield return nested;
                    }
                }
                else if (claims.Where((_, i) => i != self).Any(c => c.Owns(childPath)))
                {
                    // Another package's (or the host's) key.
                }
                else if (claims.Any(c => c.Path.StartsWith(childPath + ConfigurationPath.KeyDelimiter, StringComparison.OrdinalIgnoreCase)))
                {
                    // A section that only holds other sections (Provisioning:Dns holds Provisioning:Dns:Route53): look inside.
                    foreach (var nested in Walk(child, childPath, null))
                    {
                        yield return nested;
                    }
                }
                else if (ReporterOf(claims, childPath) == self)
                {
                    yield return childPath;
                }
            }
        }

        IEnumerable<string> Within(IConfigurationSection child, string childPath, Type propertyType)
        {
            if (IsOptionsObject(propertyType))
            {
                return Walk(child, childPath, propertyType);
            }

            if (ElementOf(propertyType) is { } element && IsOptionsObject(element))
            {
                // A list of options objects (Provisioning:Acme:Fallbacks:0:DirectoryUrl): each entry's keys.
                return child.GetChildren().SelectMany(entry => Walk(entry, childPath + ConfigurationPath.KeyDelimiter + entry.Key, element));
            }

            return [];
        }
    }

    /// <summary>
    /// The claim that reports an unclaimed key: among the claims whose options hold the key's parent section
    /// (else, for a section that only holds others, among the claims whose section holds the key), the deepest,
    /// the first registered among equals. Every claim that meets the key agrees, so it is reported once.
    /// </summary>
    private static int ReporterOf(Claim[] claims, string key)
    {
        var parent = key.LastIndexOf(ConfigurationPath.KeyDelimiter, StringComparison.Ordinal) is var cut and >= 0 ? key[..cut] : "";
        var owners = Enumerable.Range(0, claims.Length).Where(i => claims[i].Owns(parent)).ToList();
        var candidates = owners.Count > 0 ? owners : Enumerable.Range(0, claims.Length).Where(i => claims[i].Holds(key)).ToList();
        var reporter = -1;
        foreach (var i in candidates)
        {
            if (reporter < 0 || claims[i].Path.Length > claims[reporter].Path.Length)
            {
                reporter = i;
            }
        }

        return reporter;
    }

    private static string PathOf(IConfiguration section) => section is IConfigurationSection s ? s.Path : "";

    private static Type? ElementOf(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(IList<>) || definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(ICollection<>) || definition == typeof(IEnumerable<>))
            ? type.GetGenericArguments()[0]
            : null;

    private static bool IsOptionsObject(Type type)
        => type.IsClass && type != typeof(string) && type != typeof(Uri) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type);

    private sealed record Claim(Type Options, string Path)
    {
        /// <summary>Whether <paramref name="key"/> lies in this claim's section (or is it).</summary>
        public bool Holds(string key)
            => Path.Length == 0 || key.Equals(Path, StringComparison.OrdinalIgnoreCase) || key.StartsWith(Path + ConfigurationPath.KeyDelimiter, StringComparison.OrdinalIgnoreCase);

        /// <summary>Whether <paramref name="key"/> is this claim's section or names one of its options' properties (at any depth).</summary>
        public bool Owns(string key)
        {
            if (!Holds(key))
            {
                return false;
            }

            var relative = Path.Length == 0 ? key : key.Length == Path.Length ? "" : key[(Path.Length + 1)..];
            Type? type = Options;
            var entry = false;
            foreach (var segment in relative.Split(ConfigurationPath.KeyDelimiter, StringSplitOptions.RemoveEmptyEntries))
            {
                if (entry)
                {
                    entry = false; // the index of a list of options objects (Fallbacks:0)
                    continue;
                }

                if (!IsOptionsObject(type))
                {
                    return true; // inside a value the options hold (a list of strings, a dictionary)
                }

                type = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType;
                if (type is null)
                {
                    return false;
                }

                if (ElementOf(type) is { } element && IsOptionsObject(element))
                {
                    type = element;
                    entry = true;
                }
            }

            return true;
        }
    }
}
