using Microsoft.AspNetCore.OpenApi;
using Scalar.AspNetCore;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Trace;
using OpenTelemetry.Resources;
using OpenTelemetry.Metrics;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AspNetCore;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Host.Data;
using Sndctl.Provisioning.Host.Portal;
using Sndctl.Provisioning.PrivateCa;

namespace Sndctl.Provisioning.Host;

/// <summary>Wires the packages from configuration: the whole of the reference server's composition.</summary>
internal static partial class ProvisioningHost
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string DefaultBaseDomain = "devices.localhost";

    /// <summary>The host's settings from <paramref name="builder"/>'s configuration, without composing anything (for commands that must not touch the data directory).</summary>
    public static HostSettings ReadSettings(this WebApplicationBuilder builder)
    {
        AddSecretsDirectory(builder);
        return HostSettings.Read(builder.Configuration, Environment.CurrentDirectory);
    }

    private static void AddSecretsDirectory(WebApplicationBuilder builder)
    {
        if (builder.Configuration[HostSettings.SecretsDirectoryKey] is { Length: > 0 } secrets)
        {
            if (!Directory.Exists(secrets))
            {
                throw new HostConfigurationException([$"{HostSettings.SecretsDirectoryKey} '{secrets}' is not a directory: mount the secrets volume there, or remove the setting."]);
            }

            // Last, so a file wins over the environment; Kubernetes' "..data" links are skipped by the provider.
            builder.Configuration.AddKeyPerFile(secrets, optional: false, reloadOnChange: false);
        }
    }

    public static HostSettings AddProvisioningHost(this WebApplicationBuilder builder)
    {
        AddSecretsDirectory(builder);

        var settings = HostSettings.Read(builder.Configuration, Environment.CurrentDirectory);
        DataDirectory.Ensure(settings.DataDirectory);
        var section = builder.Configuration.GetSection("Provisioning");

        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured ? configured : DefaultUrl;
        if (settings.MetricsUrl is { } metricsUrl)
        {
            // The metrics listener is one more address of the same server; requests on its port see nothing but /metrics.
            urls += ";" + metricsUrl.GetLeftPart(UriPartial.Authority);
        }

        builder.WebHost.UseUrls(urls);

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);

        // A built (not published) host, in any environment: the portal's assets are the project's wwwroot, found through
        // the static web assets manifest beside the assembly (a published host has them in its own wwwroot).
        if (!builder.Environment.IsDevelopment() && File.Exists(Path.Combine(AppContext.BaseDirectory, builder.Environment.ApplicationName + ".staticwebassets.runtime.json")))
        {
            builder.WebHost.UseStaticWebAssets();
        }

        // Each package binds (claims) its own section and refuses keys nobody claims; the host claims its own keys the same way.
        builder.Services.Configure<DeviceProvisioningOptions>(o => o.BaseDomain = DefaultBaseDomain);
        var provisioning = builder.Services.AddDeviceProvisioning(section).BindOptions<ProvisioningHostOptions>(section);
        _ = settings.Storage switch
        {
            // Pooled: a request or an issuance reuses a context instead of building one (the contexts hold no state of their own).
            StorageKind.PostgreSql => builder.Services.AddDbContextPool<HostDbContext, PostgreSqlHostDbContext>(o => o.UseNpgsql(settings.ConnectionString)),
            _ => builder.Services.AddDbContextPool<HostDbContext, SqliteHostDbContext>(o => o.UseSqlite(settings.ConnectionString).UseSqliteWriteGate(settings.ConnectionString!)),
        };
        provisioning.UseEntityFrameworkStores<HostDbContext>();

        var keyRingCertificate = DataDirectory.GetOrCreateKeyRingCertificate(
            settings.DataDirectory, settings.Options.DataProtection.CertificateFile, settings.Options.DataProtection.CertificatePassword);
        var previousKeyRingCertificates = DataDirectory.LoadPreviousKeyRingCertificates(settings.Options.DataProtection.PreviousCertificates);
        builder.Services.AddSingleton(new KeyRingCertificates(keyRingCertificate, previousKeyRingCertificates));
        builder.Services.AddDataProtection()
            .SetApplicationName("Sndctl.Provisioning")
            .PersistKeysToDbContext<HostDbContext>()
            .ProtectKeysWithCertificate(keyRingCertificate)
            .UnprotectKeysWithAnyCertificate([keyRingCertificate, .. previousKeyRingCertificates]);

        // The private CSR service runs with either issuer; the private CA issues device certificates unless ACME does.
        provisioning.AddPrivateCsrService(section.GetSection("PrivateCa"));
        if (settings.Issuer == IssuerKind.Acme)
        {
            provisioning.UseAcme(section.GetSection("Acme"));
        }
        else
        {
            provisioning.UsePrivateCaIssuer(section.GetSection("PrivateCa"));
        }

        // Each provider's keys are in the section named as the provider (Provisioning:Dns:Route53).
        var dnsSection = section.GetSection($"Dns:{settings.Dns}");
        _ = settings.Dns switch
        {
            null => provisioning,
            DnsProviderKind.ChallTestSrv => provisioning.UseChallTestSrvDns(new Uri(settings.Options.Dns.ChallTestSrv.ManagementUrl!)),
            DnsProviderKind.Cloudflare => provisioning.UseCloudflareDns(dnsSection),
            DnsProviderKind.Authoritative => provisioning.UseAuthoritativeDns(dnsSection),
            DnsProviderKind.Route53 => provisioning.UseRoute53Dns(dnsSection),
            DnsProviderKind.Rfc2136 => provisioning.UseRfc2136Dns(dnsSection),
            _ => throw new InvalidOperationException($"DNS provider {settings.Dns} is not wired."),
        };

        if (settings.Options.AcmeServer.Enabled)
        {
            // The package binds the rest of the section (NonceLifetime, FinalizeWait, ...); Enabled is the host's.
            provisioning.AddAcmeServer(section.GetSection("AcmeServer"));
        }

        var listenUrl = (builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        builder.Services.PostConfigure<PrivateCaOptions>(o =>
        {
            // CRLs are referenced from certificates by absolute URL: without CrlBaseUrl, the listen address
            // (fine on one machine; set CrlBaseUrl to the public URL in production).
            if (o.CrlBaseUrl is null && Uri.TryCreate(listenUrl, UriKind.Absolute, out var url) && url.Host is not ("*" or "+" or "0.0.0.0" or "[::]"))
            {
                o.CrlBaseUrl = url;
            }
        });

        var adminKeys = settings.Options.Admin.ApiKeys.ToArray();
        string? newAdminKey = null;
        if (adminKeys.Length == 0 && settings.Options.Admin.Keys.Count == 0)
        {
            var key = DataDirectory.GetOrCreateAdminKey(settings.DataDirectory, out var created);
            adminKeys = [key];
            newAdminKey = created ? key : null;
        }

        provisioning.AddAspNetCore(section.GetSection("Http"), o =>
        {
            foreach (var key in adminKeys)
            {
                o.AdminApiKeys.Add(key);
            }

            foreach (var scoped in settings.Options.Admin.Keys)
            {
                var key = new AdminKeyOptions { Key = scoped.Key ?? "" };
                foreach (var scope in scoped.Scopes)
                {
                    key.Scopes.Add(Enum.Parse<AdminScope>(scope, ignoreCase: true));
                }

                o.AdminKeys.Add(key);
            }
        });
        ConfigureForwardedHeaders(builder.Services, settings.Options.Http.KnownProxies);

        AddTelemetry(builder, settings.Prometheus);
        builder.Services.AddOpenApi(o => o.AddDeviceProvisioningSecuritySchemes());
        builder.Services.AddAdminPortal();
        builder.Services.AddSingleton(new HostStartupInfo(settings, newAdminKey));
        if (settings.Options.Memory.TrimWhenIdle)
        {
            builder.Services.AddHostedService<IdleMemoryTrim>();
        }

        return settings;
    }

    /// <summary>
    /// OpenTelemetry for our meters and activity sources (<c>Sndctl.Provisioning.*</c>), ASP.NET Core,
    /// HttpClient, PostgreSQL (Npgsql) and the runtime, and the logs (with their trace and span IDs). OTLP export when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is
    /// set (with the other <c>OTEL_*</c> variables); Prometheus on <c>/metrics</c> when asked. Nothing
    /// is collected for nobody: without an exporter there are no spans, and without one for metrics no
    /// metric pipeline (the meters still serve in-process listeners such as dotnet-counters).
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder, bool prometheus)
    {
        var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!otlp && !prometheus)
        {
            return;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                "sndctl-provisioning",
                serviceVersion: typeof(ProvisioningHost).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                    .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0],
                // The instance's stable name (the pod's name in the manifests), so its series survive restarts.
                serviceInstanceId: builder.Configuration["Provisioning:InstanceId"] is { Length: > 0 } instance ? instance : Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("Sndctl.Provisioning.*").AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation();
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            // Spans of our sources, requests, outgoing HTTP and PostgreSQL commands (Npgsql's own instrumentation); logs go
            // to the same endpoint, each with the trace and span it was written in.
            telemetry.WithTracing(tracing => tracing.AddSource("Sndctl.Provisioning.*").AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddNpgsql());
            telemetry.WithLogging();
            telemetry.UseOtlpExporter();
        }
    }

    private static void ConfigureForwardedHeaders(IServiceCollection services, List<string> knownProxies)
        => services.Configure<ForwardedHeadersOptions>(o =>
        {
            // X-Forwarded-For/-Proto are believed only from these addresses or networks (not even
            // loopback by default): the client address keys every per-client limit, the scheme makes
            // the portal's cookies Secure behind a TLS-terminating proxy.
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
            foreach (var proxy in knownProxies)
            {
                if (System.Net.IPAddress.TryParse(proxy, out var address))
                {
                    o.KnownProxies.Add(address);
                }
                else
                {
                    o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
                }
            }
        });

    public static async Task<WebApplication> UseProvisioningHostAsync(this WebApplication app)
    {
        var info = app.Services.GetRequiredService<HostStartupInfo>();

        // Every package's options (bound strictly, validated) before anything touches the database.
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HostDbContext>();
            if (info.Settings.Options.Storage.MigrateOnStart)
            {
                await db.Database.MigrateSerializedAsync();
            }
            else if ((await db.Database.GetPendingMigrationsAsync()).ToList() is { Count: > 0 } pending)
            {
                // Migrations run as a deployment job: an instance never serves a schema older than its code.
                throw new HostConfigurationException([$"Provisioning:Storage:MigrateOnStart is false and the database lacks {pending.Count} migration(s) ({string.Join(", ", pending)}): run 'dotnet Sndctl.Provisioning.Host.dll migrate' with this configuration first (the migration job), then start the server."]);
            }

            // Replicas that each made their own key-ring certificate would make each other's stored keys unreadable.
            await app.Services.GetRequiredService<KeyRingCertificates>().ClaimAsync(scope.ServiceProvider.GetRequiredService<IIssuerStateStore>(), CancellationToken.None);
        }

        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value is { } forwarded && (forwarded.KnownProxies.Count > 0 || forwarded.KnownIPNetworks.Count > 0))
        {
            app.UseForwardedHeaders();
        }

        if (info.Settings.MetricsUrl is { } metricsUrl)
        {
            // First in the pipeline: on the metrics port, /metrics without credentials (Prometheus scrapes it
            // as it is), and nothing else at all: no API, no portal, no health.
            var metricsPort = metricsUrl.Port;
            app.UseWhen(c => c.Connection.LocalPort == metricsPort, metrics =>
            {
                metrics.UseOpenTelemetryPrometheusScrapingEndpoint(c => c.Request.Path == "/metrics");
                metrics.Run(c =>
                {
                    c.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                });
            });
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // Here rather than where WebApplication would put them (first): the metrics listener above answers /metrics
        // without credentials before the admin policy of the main port's /metrics could ask for a key.
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAdminPortal();
        app.MapOpenApi();
        app.MapScalarApiReference(); // /scalar/v1: the document, interactive (a page of documentation: no credentials in it)
        app.MapDeviceProvisioning();
        app.MapDeviceProvisioningAdmin();
        app.MapPrivateCa();
        app.MapPrivateCaAdmin();
        if (info.Settings.Options.AcmeServer.Enabled)
        {
            app.MapAcmeServer();
        }
        if (info.Settings.Prometheus)
        {
            // The fleet's figures are the operator's: scraped with an admin key (Prometheus: authorization.credentials).
            app.MapPrometheusScrapingEndpoint("/metrics").RequireProvisioningAdmin(AdminScope.Metrics);
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sndctl.Provisioning.Host");
        Log.Started(logger, info.Settings.Issuer.ToString(), info.Settings.Storage.ToString(), info.Settings.DataDirectory);
        if (info.NewAdminKey is { } key)
        {
            // Printed once, to the console only: logs are often shipped elsewhere.
            Console.WriteLine();
            Console.WriteLine("  Admin API key (shown once; also stored in " + Path.Combine(info.Settings.DataDirectory, DataDirectory.AdminKeyFile) + "):");
            Console.WriteLine("    " + key);
            Console.WriteLine();
        }
        else if (info.Settings.Options.Admin is { ApiKeys.Count: 0, Keys.Count: 0 })
        {
            Log.AdminKeyFile(logger, Path.Combine(info.Settings.DataDirectory, DataDirectory.AdminKeyFile));
        }

        return app;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Sndctl.Provisioning host: issuer {Issuer}, storage {Storage}, data in {DataDirectory}.")]
        public static partial void Started(ILogger logger, string issuer, string storage, string dataDirectory);

        [LoggerMessage(2, LogLevel.Information, "The admin API key is in {Path}.")]
        public static partial void AdminKeyFile(ILogger logger, string path);
    }
}

internal sealed record HostStartupInfo(HostSettings Settings, string? NewAdminKey);
