namespace Sndctl.Provisioning.Host;

/// <summary>
/// The reference host's own reading of the <c>Provisioning</c> section: which issuer, which storage,
/// which DNS provider, where data lives. Unknown host keys and contradictions stop start-up with a
/// message naming the key; the packages' keys are checked by the packages, at start.
/// </summary>
internal sealed class HostSettings
{
    /// <summary>
    /// The host's own keys, by section (<c>""</c>: directly under <c>Provisioning</c>). Every other key
    /// belongs to a package, which binds its own section and refuses keys it does not know.
    /// </summary>
    private static readonly Dictionary<string, string[]> s_hostKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Storage"] = ["Provider"],
        ["Dns"] = ["Provider", "Cloudflare", "Route53", "ChallTestSrv", "Authoritative"],
        ["Dns:ChallTestSrv"] = ["ManagementUrl"],
        ["Admin"] = ["ApiKeys"],
        ["DataProtection"] = ["CertificateFile", "CertificatePassword"],
        ["Telemetry"] = ["Prometheus"],
    };

    /// <summary>Keys directly under <c>Provisioning</c> that are not the core options': the host's own, and the sections handed to packages.</summary>
    public static readonly string[] NotCoreKeys = ["DataDirectory", "SecretsDirectory", "Issuer", "Storage", "Acme", "Dns", "PrivateCa", "Admin", "Http", "DataProtection", "Telemetry"];

    /// <summary>
    /// <c>Provisioning:SecretsDirectory</c>: a directory with one file per setting, named as the environment
    /// variable would be (<c>Provisioning__Admin__ApiKeys__0</c>, <c>ConnectionStrings__Provisioning</c>), as a
    /// Kubernetes Secret volume or Docker secrets lay them out. Secrets then never sit in the environment.
    /// </summary>
    public const string SecretsDirectoryKey = "Provisioning:SecretsDirectory";

    /// <summary>The host's key in the <c>Http</c> section, which is otherwise the HTTP package's.</summary>
    public const string KnownProxiesKey = "KnownProxies";

    public required string DataDirectory { get; init; }

    public required IssuerKind Issuer { get; init; }

    public required StorageKind Storage { get; init; }

    public string? ConnectionString { get; init; }

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

    public DnsKind Dns { get; init; }

    /// <summary><c>Provisioning:Telemetry:Prometheus</c>: serve <c>/metrics</c> (admin key required).</summary>
    public bool Prometheus { get; init; }

    public static HostSettings Read(IConfiguration configuration, string workingDirectory)
    {
        var section = configuration.GetSection("Provisioning");
        var errors = new List<string>();
        foreach (var (path, known) in s_hostKeys)
        {
            CheckHostKeys(section.GetSection(path), path, known, errors);
        }

        var dataDirectory = section["DataDirectory"] is { Length: > 0 } dir ? dir : "data";
        // Relative to where the command runs (the repository root in the README), not the project folder.
        dataDirectory = Path.GetFullPath(dataDirectory, workingDirectory);

        var issuer = IssuerKind.PrivateCa;
        switch (section["Issuer"])
        {
            case null or "" or "PrivateCa":
                break;
            case "Acme":
                issuer = IssuerKind.Acme;
                break;
            case var other:
                errors.Add($"Provisioning:Issuer '{other}' is unknown: use 'PrivateCa' (default) or 'Acme'.");
                break;
        }

        if (issuer == IssuerKind.PrivateCa && section.GetSection("Acme").Exists())
        {
            errors.Add("Provisioning:Acme:* is set but Provisioning:Issuer is 'PrivateCa': set Provisioning:Issuer to 'Acme' or remove the Acme keys.");
        }

        // A DNS provider goes with either issuer: with ACME it carries the DNS-01 records (and is required);
        // with the private CA it publishes device addresses only.
        var dns = DnsKind.None;
        if (issuer == IssuerKind.Acme && string.IsNullOrWhiteSpace(section["Acme:DirectoryUrl"]))
        {
            errors.Add("Provisioning:Issuer is 'Acme' but Provisioning:Acme:DirectoryUrl is empty: set it to https://acme-staging-v02.api.letsencrypt.org/directory (Let's Encrypt staging; try this first), https://acme-v02.api.letsencrypt.org/directory (production) or your CA's directory.");
        }

        switch (section["Dns:Provider"])
        {
            case null or "" when issuer == IssuerKind.Acme:
                errors.Add("Provisioning:Issuer is 'Acme' but Provisioning:Dns:Provider is empty: DNS-01 needs a DNS provider for the base domain's zone ('Cloudflare', 'Route53' or 'Authoritative'; 'ChallTestSrv' for a local Pebble).");
                break;
            case null or "":
                if (section.GetSection("Dns").Exists())
                {
                    errors.Add("Provisioning:Dns:* is set but Provisioning:Dns:Provider is empty: set it to 'Cloudflare', 'Route53' or 'Authoritative' to publish device addresses, or remove the Dns keys.");
                }

                break;
            case "Cloudflare":
                dns = DnsKind.Cloudflare; // the package validates its own keys (token, credentials) at start
                break;
            case "Route53":
                dns = DnsKind.Route53;
                break;
            case "Authoritative":
                dns = DnsKind.Authoritative;
                break;
            case "ChallTestSrv":
                dns = DnsKind.ChallTestSrv;
                if (!Uri.TryCreate(section["Dns:ChallTestSrv:ManagementUrl"], UriKind.Absolute, out _))
                {
                    errors.Add("Provisioning:Dns:Provider is 'ChallTestSrv' but Provisioning:Dns:ChallTestSrv:ManagementUrl is not a URL: set it to the pebble-challtestsrv management address, e.g. http://127.0.0.1:8055.");
                }

                break;
            case var other:
                errors.Add($"Provisioning:Dns:Provider '{other}' is unknown: use 'Cloudflare', 'Route53', 'Authoritative' (the embedded DNS server) or 'ChallTestSrv' (local Pebble only).");
                break;
        }

        foreach (var (proxy, i) in (section.GetSection("Http:KnownProxies").Get<string[]>() ?? []).Select((p, i) => (p, i)))
        {
            if (!System.Net.IPAddress.TryParse(proxy, out _) && !System.Net.IPNetwork.TryParse(proxy, out _))
            {
                errors.Add($"Provisioning:Http:KnownProxies:{i} '{proxy}' is not an IP address or network: list the addresses (10.0.0.5) or networks (10.0.0.0/24) of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.");
            }
        }

        var storage = StorageKind.Sqlite;
        var connectionString = configuration.GetConnectionString("Provisioning");
        switch (section["Storage:Provider"])
        {
            case null or "" or "Sqlite":
                connectionString ??= $"Data Source={Path.Combine(dataDirectory, "provisioning.db")}";
                break;
            case "PostgreSql":
                storage = StorageKind.PostgreSql;
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    errors.Add("Provisioning:Storage:Provider is 'PostgreSql' but ConnectionStrings:Provisioning is empty: set it (environment ConnectionStrings__Provisioning), e.g. 'Host=db;Database=provisioning;Username=app;Password=...'.");
                }
                else
                {
                    connectionString = WithPoolDefaults(connectionString, errors);
                }

                break;
            case var other:
                errors.Add($"Provisioning:Storage:Provider '{other}' is unknown: use 'Sqlite' (default) or 'PostgreSql'.");
                break;
        }

        var prometheus = false;
        if (section["Telemetry:Prometheus"] is { Length: > 0 } prometheusText && !bool.TryParse(prometheusText, out prometheus))
        {
            errors.Add($"Provisioning:Telemetry:Prometheus '{prometheusText}' is not true or false.");
        }

        CheckPlaceholders(configuration, errors);
        if (errors.Count > 0)
        {
            throw new HostConfigurationException(errors);
        }

        return new HostSettings { DataDirectory = dataDirectory, Issuer = issuer, Storage = storage, ConnectionString = connectionString, Dns = dns, Prometheus = prometheus };
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

    private static void CheckHostKeys(IConfigurationSection section, string path, string[] known, List<string> errors)
    {
        foreach (var child in section.GetChildren().Where(c => !known.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add($"Provisioning:{path}:{child.Key} is not a setting this server knows; check its spelling against docs/configuration.md.");
        }
    }
}

internal enum IssuerKind
{
    PrivateCa,
    Acme,
}

internal enum DnsKind
{
    None,
    ChallTestSrv,
    Cloudflare,
    Route53,
    Authoritative,
}

internal enum StorageKind
{
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
        return failures.Count == 0 ? null : new HostConfigurationException([.. failures.SelectMany(f => f.Failures)]);
    }
}
