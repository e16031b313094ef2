using System.ComponentModel;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// The host's own keys in the <c>Provisioning</c> section: which issuer, storage and DNS provider, where data
/// lives, the admin keys. Bound strictly like every package's options (a misspelt key stops start-up naming
/// it); the packages' keys beside them are the packages' claims, so the host keeps no table of them.
/// </summary>
internal sealed class ProvisioningHostOptions
{
    /// <summary>Where the database, key ring and CA keys live (default <c>data</c>, relative to the working directory).</summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// A directory with one file per setting, named as the environment variable would be
    /// (<c>Provisioning__Admin__ApiKeys__0</c>, <c>ConnectionStrings__Provisioning</c>), as a Kubernetes
    /// Secret volume or Docker secrets lay them out. Secrets then never sit in the environment.
    /// </summary>
    public string? SecretsDirectory { get; set; }

    /// <summary>A <see cref="IssuerKind"/> name.</summary>
    public string? Issuer { get; set; }

    public StorageSection Storage { get; set; } = new();

    public DnsSection Dns { get; set; } = new();

    public AdminSection Admin { get; set; } = new();

    public DataProtectionSection DataProtection { get; set; } = new();

    public TelemetrySection Telemetry { get; set; } = new();

    public HttpSection Http { get; set; } = new();

    public AcmeServerSection AcmeServer { get; set; } = new();

    public MemorySection Memory { get; set; } = new();

    public sealed class MemorySection
    {
        /// <summary>Give back the memory the GC keeps after a burst of requests once the process is quiet (<see cref="IdleMemoryTrim"/>).</summary>
        public bool TrimWhenIdle { get; set; } = true;
    }

    public sealed class AcmeServerSection
    {
        /// <summary>Serve the ACME front door under <c>/acme</c> (the rest of the section is the package's options).</summary>
        public bool Enabled { get; set; }
    }

    public sealed class StorageSection
    {
        /// <summary>A <see cref="StorageKind"/> name.</summary>
        public string? Provider { get; set; }

        /// <summary>Apply migrations at start (default); false: the server only checks, and the <c>migrate</c> command (a deployment job) applies them.</summary>
        public bool MigrateOnStart { get; set; } = true;
    }

    public sealed class DnsSection
    {
        /// <summary>A <see cref="DnsProviderKind"/> name; the provider's own keys are in the section of that name.</summary>
        public string? Provider { get; set; }

        public ChallTestSrvSection ChallTestSrv { get; set; } = new();
    }

    public sealed class ChallTestSrvSection
    {
        public string? ManagementUrl { get; set; }
    }

    public sealed class AdminSection
    {
        /// <summary>Keys with every right (scope admin).</summary>
        public List<string> ApiKeys { get; set; } = [];

        /// <summary>Keys limited to scopes: <c>Keys:N:Key</c> and <c>Keys:N:Scopes:M</c> (admin, read, devices, csr, metrics).</summary>
        public List<AdminKeySection> Keys { get; set; } = [];
    }

    public sealed class AdminKeySection
    {
        public string? Key { get; set; }

        public List<string> Scopes { get; set; } = [];
    }

    public sealed class DataProtectionSection
    {
        public string? CertificateFile { get; set; }

        public string? CertificatePassword { get; set; }

        /// <summary>Certificates the key ring was encrypted with before a rotation (<c>PreviousCertificates:N:File</c>, <c>:Password</c>): they still unprotect it.</summary>
        public List<PreviousCertificateSection> PreviousCertificates { get; set; } = [];
    }

    public sealed class PreviousCertificateSection
    {
        public string? File { get; set; }

        public string? Password { get; set; }
    }

    public sealed class TelemetrySection
    {
        /// <summary>Serve <c>/metrics</c> (admin key required).</summary>
        public string? Prometheus { get; set; }

        /// <summary>A second listener (<c>http://0.0.0.0:9464</c>) that serves <c>/metrics</c> without credentials and nothing else.</summary>
        public string? MetricsUrl { get; set; }
    }

    public sealed class HttpSection
    {
        /// <summary>The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (the rest of the section is the HTTP package's).</summary>
        public List<string> KnownProxies { get; set; } = [];
    }
}

/// <summary>
/// The reference host's reading of its options: defaults applied, names parsed, contradictions stopping
/// start-up with a message naming the key and the fix.
/// </summary>
internal sealed class HostSettings
{
    /// <summary>Read before anything else: it adds a configuration source.</summary>
    public const string SecretsDirectoryKey = "Provisioning:SecretsDirectory";

    public required ProvisioningHostOptions Options { get; init; }

    public required string DataDirectory { get; init; }

    public required IssuerKind Issuer { get; init; }

    public required StorageKind Storage { get; init; }

    public string? ConnectionString { get; init; }

    /// <summary>The DNS provider, or null for none.</summary>
    public DnsProviderKind? Dns { get; init; }

    /// <summary><c>Provisioning:Telemetry:Prometheus</c>: serve <c>/metrics</c> (admin key required).</summary>
    public bool Prometheus { get; init; }

    /// <summary><c>Provisioning:Telemetry:MetricsUrl</c>: the metrics-only listener, or null.</summary>
    public Uri? MetricsUrl { get; init; }

    /// <summary>Connections one instance opens to PostgreSQL unless the connection string says otherwise.</summary>
    public const int DefaultMaxPoolSize = 30;

    /// <summary>
    /// Bounds the instance's PostgreSQL pool: Npgsql's default of 100 per instance lets three instances
    /// in a burst exceed PostgreSQL's default <c>max_connections</c> (100) and fail with 53300; with 30 a
    /// burst waits for a connection instead. An explicit <c>Maximum Pool Size</c> wins.
    /// </summary>
    private static string WithPoolDefaults(string connectionString, List<string> errors)
    {
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            if (!builder.ContainsKey("Maximum Pool Size"))
            {
                builder.MaxPoolSize = DefaultMaxPoolSize;
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException ex)
        {
            errors.Add($"ConnectionStrings:Provisioning is not a valid PostgreSQL connection string: {ex.Message}");
            return connectionString;
        }
    }

    public static HostSettings Read(IConfiguration configuration, string workingDirectory)
    {
        var section = configuration.GetSection("Provisioning");
        var errors = new List<string>();
        // Leniently here (the choices below need it before anything is registered); strictly, with every
        // package's options, at start.
        ProvisioningHostOptions options;
        try
        {
            options = section.Get<ProvisioningHostOptions>() ?? new ProvisioningHostOptions();
        }
        catch (InvalidOperationException ex)
        {
            // A value that does not convert (AcmeServer:Enabled=yes): the binder names the key.
            throw new HostConfigurationException([$"Provisioning: {ex.Message}"]);
        }


        // Relative to where the command runs (the repository root in the README), not the project folder.
        var dataDirectory = Path.GetFullPath(options.DataDirectory is { Length: > 0 } dir ? dir : "data", workingDirectory);

        var issuer = Kind(options.Issuer, "Provisioning:Issuer", IssuerKind.PrivateCa, errors);
        if (issuer == IssuerKind.PrivateCa && section.GetSection(nameof(IssuerKind.Acme)).Exists())
        {
            errors.Add("Provisioning:Acme:* is set but Provisioning:Issuer is 'PrivateCa': set Provisioning:Issuer to 'Acme' or remove the Acme keys.");
        }

        // A DNS provider goes with either issuer: with ACME it carries the DNS-01 records (and is required);
        // with the private CA it publishes device addresses only.
        if (issuer == IssuerKind.Acme && string.IsNullOrWhiteSpace(section["Acme:DirectoryUrl"]))
        {
            errors.Add("Provisioning:Issuer is 'Acme' but Provisioning:Acme:DirectoryUrl is empty: set it to https://acme-staging-v02.api.letsencrypt.org/directory (Let's Encrypt staging; try this first), https://acme-v02.api.letsencrypt.org/directory (production) or your CA's directory.");
        }

        DnsProviderKind? dns = null;
        if (!string.IsNullOrEmpty(options.Dns.Provider))
        {
            dns = Kind<DnsProviderKind>(options.Dns.Provider, "Provisioning:Dns:Provider", default, errors);
        }
        else if (issuer == IssuerKind.Acme)
        {
            errors.Add($"Provisioning:Issuer is 'Acme' but Provisioning:Dns:Provider is empty: DNS-01 needs a DNS provider for the base domain's zone ({Choices<DnsProviderKind>()}).");
        }
        else if (section.GetSection("Dns").Exists())
        {
            errors.Add($"Provisioning:Dns:* is set but Provisioning:Dns:Provider is empty: set it ({Choices<DnsProviderKind>()}) to publish device addresses, or remove the Dns keys.");
        }

        foreach (var other in Enum.GetValues<DnsProviderKind>().Where(k => k != dns && dns is not null && HasValues(section.GetSection($"Dns:{k}"))))
        {
            errors.Add($"Provisioning:Dns:{other}:* is set but Provisioning:Dns:Provider is '{dns}': remove the {other} keys, or set the provider to '{other}'.");
        }

        if (dns == DnsProviderKind.ChallTestSrv && !Uri.TryCreate(options.Dns.ChallTestSrv.ManagementUrl, UriKind.Absolute, out _))
        {
            errors.Add("Provisioning:Dns:Provider is 'ChallTestSrv' but Provisioning:Dns:ChallTestSrv:ManagementUrl is not a URL: set it to the pebble-challtestsrv management address, e.g. http://127.0.0.1:8055.");
        }

        foreach (var (proxy, i) in options.Http.KnownProxies.Select((p, i) => (p, i)))
        {
            if (!System.Net.IPAddress.TryParse(proxy, out _) && !System.Net.IPNetwork.TryParse(proxy, out _))
            {
                errors.Add($"Provisioning:Http:KnownProxies:{i} '{proxy}' is not an IP address or network: list the addresses (10.0.0.5) or networks (10.0.0.0/24) of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.");
            }
        }

        var storage = Kind(options.Storage.Provider, "Provisioning:Storage:Provider", StorageKind.Sqlite, errors);
        var connectionString = configuration.GetConnectionString("Provisioning");
        if (storage == StorageKind.Sqlite)
        {
            connectionString ??= $"Data Source={Path.Combine(dataDirectory, "provisioning.db")}";
        }
        else if (string.IsNullOrWhiteSpace(connectionString))
        {
            errors.Add("Provisioning:Storage:Provider is 'PostgreSql' but ConnectionStrings:Provisioning is empty: set it (environment ConnectionStrings__Provisioning), e.g. 'Host=db;Database=provisioning;Username=app;Password=...'.");
        }
        else
        {
            connectionString = WithPoolDefaults(connectionString, errors);
        }

        if (!options.AcmeServer.Enabled && section.GetSection("AcmeServer").GetChildren().Any(c => !c.Key.Equals(nameof(ProvisioningHostOptions.AcmeServerSection.Enabled), StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add("Provisioning:AcmeServer:* is set but Provisioning:AcmeServer:Enabled is not true: set it to true to serve the ACME front door, or remove the AcmeServer keys.");
        }

        var prometheus = false;
        if (options.Telemetry.Prometheus is { Length: > 0 } prometheusText && !bool.TryParse(prometheusText, out prometheus))
        {
            errors.Add($"Provisioning:Telemetry:Prometheus '{prometheusText}' is not true or false.");
        }

        Uri? metricsUrl = null;
        if (options.Telemetry.MetricsUrl is { Length: > 0 } metricsText)
        {
            var listenPorts = (configuration["urls"] ?? ProvisioningHost.DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(u => Uri.TryCreate(u.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var listen) ? listen.Port : -1);
            if (!Uri.TryCreate(metricsText, UriKind.Absolute, out metricsUrl) || metricsUrl.Scheme != Uri.UriSchemeHttp || metricsUrl.AbsolutePath != "/" || metricsUrl.IsDefaultPort)
            {
                errors.Add($"Provisioning:Telemetry:MetricsUrl '{metricsText}' is not an http URL with a port and no path, e.g. http://0.0.0.0:9464.");
                metricsUrl = null;
            }
            else if (listenPorts.Contains(metricsUrl.Port))
            {
                errors.Add($"Provisioning:Telemetry:MetricsUrl '{metricsText}' uses the port of the server's own URL: give the metrics listener a port of its own, e.g. http://0.0.0.0:9464.");
                metricsUrl = null;
            }
        }

        for (var i = 0; i < options.Admin.Keys.Count; i++)
        {
            foreach (var scope in options.Admin.Keys[i].Scopes)
            {
                if (!Enum.TryParse<Sndctl.Provisioning.AspNetCore.AdminScope>(scope, ignoreCase: true, out var parsed) || int.TryParse(scope, out _) || !Enum.IsDefined(parsed))
                {
                    errors.Add($"Provisioning:Admin:Keys:{i}:Scopes '{scope}' is not a scope: use admin, read, devices, csr or metrics.");
                }
            }
        }

        CheckPlaceholders(configuration, errors);
        if (errors.Count > 0)
        {
            throw new HostConfigurationException(errors);
        }

        return new HostSettings { Options = options, DataDirectory = dataDirectory, Issuer = issuer, Storage = storage, ConnectionString = connectionString, Dns = dns, Prometheus = prometheus || metricsUrl is not null, MetricsUrl = metricsUrl };
    }

    private static bool HasValues(IConfigurationSection section) => section.AsEnumerable().Any(kv => !string.IsNullOrEmpty(kv.Value));

    /// <summary>Parses a choice by its name (the enum member is the only place a name is written).</summary>
    private static TKind Kind<TKind>(string? value, string key, TKind fallback, List<string> errors)
        where TKind : struct, Enum
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (Enum.GetNames<TKind>().FirstOrDefault(n => n.Equals(value, StringComparison.OrdinalIgnoreCase)) is { } name)
        {
            return Enum.Parse<TKind>(name);
        }

        errors.Add($"{key} '{value}' is unknown: use {Choices<TKind>()}.");
        return fallback;
    }

    /// <summary>"'A' (what it is), 'B' or 'C'", from the enum's members and their descriptions.</summary>
    private static string Choices<TKind>()
        where TKind : struct, Enum
    {
        var choices = Enum.GetValues<TKind>().Select(kind =>
        {
            var description = typeof(TKind).GetField(kind.ToString())!.GetCustomAttributes(typeof(DescriptionAttribute), false).OfType<DescriptionAttribute>().FirstOrDefault()?.Description;
            return description is null ? $"'{kind}'" : $"'{kind}' ({description})";
        }).ToList();
        return choices.Count == 1 ? choices[0] : string.Join(", ", choices[..^1]) + " or " + choices[^1];
    }

    /// <summary>The placeholders of the example Secret (deploy/kubernetes/secret.example.yaml) and of the docs.</summary>
    private static readonly string[] s_placeholders = ["replace-me", "replace-with", "changeme", "change-me"];

    /// <summary>
    /// Refuses settings still holding a placeholder: an example Secret applied as it is would otherwise start a
    /// server with a published admin key, or crash-loop on an empty key ring.
    /// </summary>
    private static void CheckPlaceholders(IConfiguration configuration, List<string> errors)
    {
        foreach (var root in new[] { "Provisioning", "ConnectionStrings" })
        {
            foreach (var (key, value) in configuration.GetSection(root).AsEnumerable())
            {
                if (value is not null && s_placeholders.Any(p => value.Contains(p, StringComparison.OrdinalIgnoreCase)))
                {
                    errors.Add($"{key} holds a placeholder ('{s_placeholders.First(p => value.Contains(p, StringComparison.OrdinalIgnoreCase))}'): set the real value (docs/deployment.md says how to make each secret).");
                }
            }
        }
    }
}

/// <summary><c>Provisioning:Issuer</c>: who signs device certificates.</summary>
internal enum IssuerKind
{
    [Description("default")]
    PrivateCa,
    Acme,
}

/// <summary><c>Provisioning:Dns:Provider</c>: the DNS provider; its own keys are in <c>Provisioning:Dns:{name}</c>.</summary>
internal enum DnsProviderKind
{
    Cloudflare,
    Route53,
    [Description("dynamic updates with TSIG: BIND, Knot, PowerDNS, Windows DNS")]
    Rfc2136,
    [Description("the embedded DNS server")]
    Authoritative,
    [Description("a local Pebble only")]
    ChallTestSrv,
}

/// <summary><c>Provisioning:Storage:Provider</c>: where state lives.</summary>
internal enum StorageKind
{
    [Description("default")]
    Sqlite,
    PostgreSql,
}

/// <summary>The configuration cannot work; the message lists every problem with its key and fix.</summary>
internal sealed class HostConfigurationException(IReadOnlyList<string> errors)
    : Exception("The configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => " - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;

    /// <summary>The configuration errors behind a failed start (options validation, one or several), or null for any other failure.</summary>
    public static HostConfigurationException? FromStart(Exception exception)
    {
        var failures = exception switch
        {
            Microsoft.Extensions.Options.OptionsValidationException one => [one],
            AggregateException many when many.InnerExceptions.All(e => e is Microsoft.Extensions.Options.OptionsValidationException)
                => many.InnerExceptions.Cast<Microsoft.Extensions.Options.OptionsValidationException>().ToList(),
            _ => new List<Microsoft.Extensions.Options.OptionsValidationException>(),
        };
        return exception is HostConfigurationException configuration ? configuration
            : failures.Count == 0 ? null
            : new HostConfigurationException([.. failures.SelectMany(f => f.Failures)]);
    }
}
