using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Acme;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Cloudflare;
using Sndctl.Provisioning.Dns.Route53;
using Sndctl.Provisioning.Host.Data;
using Sndctl.Provisioning.Host.Portal;
using Sndctl.Provisioning.PrivateCa;

namespace Sndctl.Provisioning.Host;

/// <summary>Wires the packages from configuration: the whole of the reference server's composition.</summary>
internal static partial class ProvisioningHost
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string DefaultBaseDomain = "devices.localhost";

    public static HostSettings AddProvisioningHost(this WebApplicationBuilder builder)
    {
        var settings = HostSettings.Read(builder.Configuration, Environment.CurrentDirectory);
        DataDirectory.Ensure(settings.DataDirectory);
        var section = builder.Configuration.GetSection("Provisioning");

        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);

        var provisioning = builder.Services.AddDeviceProvisioning(o => o.BaseDomain = DefaultBaseDomain);
        builder.Services.Configure<DeviceProvisioningOptions>(section);

        switch (settings.Storage)
        {
            case StorageKind.PostgreSql:
                builder.Services.AddDbContext<HostDbContext, PostgreSqlHostDbContext>(o => o.UseNpgsql(settings.ConnectionString));
                provisioning.UseEntityFrameworkStores<HostDbContext>();
                break;
            default:
                builder.Services.AddDbContext<HostDbContext, SqliteHostDbContext>(o => o.UseSqlite(settings.ConnectionString));
                provisioning.UseEntityFrameworkStores<HostDbContext>();
                break;
        }

        var keyRingCertificate = DataDirectory.GetOrCreateKeyRingCertificate(
            settings.DataDirectory, section["DataProtection:CertificateFile"], section["DataProtection:CertificatePassword"]);
        builder.Services.AddDataProtection()
            .SetApplicationName("Sndctl.Provisioning")
            .PersistKeysToDbContext<HostDbContext>()
            .ProtectKeysWithCertificate(keyRingCertificate)
            .UnprotectKeysWithAnyCertificate(keyRingCertificate);

        // The private CA stays registered in ACME mode too: it serves /api/v1 (root, private-IP CSRs).
        provisioning.UsePrivateCa();
        builder.Services.Configure<PrivateCaOptions>(section.GetSection("PrivateCa"));
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

        var knownProxies = section.GetSection("Http:KnownProxies").Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
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
        if (settings.Issuer == IssuerKind.Acme)
        {
            provisioning.UseAcme();
            builder.Services.Configure<AcmeIssuerOptions>(section.GetSection("Acme"));
            switch (settings.Dns)
            {
                case DnsKind.ChallTestSrv:
                    provisioning.UseChallTestSrvDns(new Uri(section["Dns:ChallTestSrv:ManagementUrl"]!));
                    break;
                case DnsKind.Cloudflare:
                    provisioning.UseCloudflareDns();
                    builder.Services.Configure<CloudflareDnsOptions>(section.GetSection("Dns:Cloudflare"));
                    break;
                case DnsKind.Route53:
                    provisioning.UseRoute53Dns();
                    builder.Services.Configure<Route53DnsOptions>(section.GetSection("Dns:Route53"));
                    break;
            }
        }

        var adminKeys = section.GetSection("Admin:ApiKeys").Get<string[]>() ?? [];
        string? newAdminKey = null;
        if (adminKeys.Length == 0)
        {
            var key = DataDirectory.GetOrCreateAdminKey(settings.DataDirectory, out var created);
            adminKeys = [key];
            newAdminKey = created ? key : null;
        }

        provisioning.AddAspNetCore(o =>
        {
            section.GetSection("Http").Bind(o);
            foreach (var key in adminKeys)
            {
                o.AdminApiKeys.Add(key);
            }
        });

        builder.Services.AddOpenApi();
        builder.Services.AddAdminPortal();
        builder.Services.AddSingleton(new HostStartupInfo(settings, newAdminKey));
        return settings;
    }

    public static async Task<WebApplication> UseProvisioningHostAsync(this WebApplication app)
    {
        var info = app.Services.GetRequiredService<HostStartupInfo>();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HostDbContext>();
            await db.Database.MigrateSerializedAsync();
        }

        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value is { } forwarded && (forwarded.KnownProxies.Count > 0 || forwarded.KnownIPNetworks.Count > 0))
        {
            app.UseForwardedHeaders();
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        app.UseAdminPortal();
        app.MapOpenApi();
        app.MapDeviceProvisioning();
        app.MapDeviceProvisioningAdmin();
        app.MapPrivateCa();
        app.MapPrivateCaAdmin();

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
        else if (app.Configuration.GetSection("Provisioning:Admin:ApiKeys").Get<string[]>() is not { Length: > 0 })
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
