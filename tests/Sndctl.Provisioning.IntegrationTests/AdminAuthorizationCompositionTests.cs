using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AspNetCore;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The admin keys as an ASP.NET Core authentication scheme with policies: an app protects its own endpoint with an
/// admin policy, and lets its own users (here a header scheme standing in for OIDC) call the admin API by
/// redefining the policy — scopes from claims, the audit trail naming them.
/// </summary>
public sealed class AdminAuthorizationCompositionTests : IAsyncLifetime
{
    private const string AdminKey = "composition-admin-key-0123456789abcdef012345";
    private const string MetricsKey = "composition-metrics-key-0123456789abcdef0123";
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-authz-").FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_work, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task An_app_composes_the_admin_scheme_and_policies_with_its_own_users_and_endpoints()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<CompositionDbContext>(o => o.UseSqlite($"Data Source={Path.Combine(_work, "app.db")}"));
        builder.Services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
            .UsePrivateCaIssuer()
            .UseEntityFrameworkStores<CompositionDbContext>()
            .AddAspNetCore(o =>
            {
                o.AdminApiKeys.Add(AdminKey);
                o.AdminKeys.Add(new AdminKeyOptions { Key = MetricsKey, Scopes = { AdminScope.Metrics } });
            });

        // The app's own sign-in (OIDC in real life), and the admin policy redefined to admit its users too.
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, TeamHeaderHandler>("Team", null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(ProvisioningAdminDefaults.Policy, p => p
            .AddAuthenticationSchemes("Team", ProvisioningAdminDefaults.AuthenticationScheme) // the admin-key scheme last: its problem+json answers
            .RequireAuthenticatedUser()
            .AddRequirements(new AdminScopeRequirement()));

        await using var app = builder.Build();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<CompositionDbContext>().Database.EnsureCreatedAsync();
        }

        app.UseExceptionHandler();
        app.MapDeviceProvisioningAdmin();
        app.MapGet("/fleet-report", (ClaimsPrincipal user) => Results.Text("report for " + user.Identity!.Name))
            .RequireAuthorization(ProvisioningAdminDefaults.PolicyFor(AdminScope.Read));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

            // The app's own endpoint behind an admin policy: no key 401, a metrics key 403, the admin key in.
            await HttpAssert.ProblemAsync(await http.GetAsync("/fleet-report"), 401);
            await HttpAssert.ProblemAsync(await Send(http, HttpMethod.Get, "/fleet-report", bearer: MetricsKey), 403);
            var report = await Send(http, HttpMethod.Get, "/fleet-report", bearer: AdminKey);
            Assert.Equal(HttpStatusCode.OK, report.StatusCode);
            Assert.StartsWith("report for admin:", await report.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // A team member with the devices scope creates a device, and cannot list (read): scopes come from claims.
            var created = await Send(http, HttpMethod.Post, "/api/admin/devices", team: "alice:devices", body: new { });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await HttpAssert.ProblemAsync(await Send(http, HttpMethod.Get, "/api/admin/devices", team: "alice:devices"), 403);
            Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Get, "/api/admin/devices", team: "bob:read")).StatusCode);

            // The audit trail names the app's user; the admin keys still work as before.
            var events = await (await Send(http, HttpMethod.Get, "/api/admin/events", bearer: AdminKey)).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("actor").GetString() == "alice" && e.GetProperty("type").GetString() == "device.created");
            await HttpAssert.ProblemAsync(await http.GetAsync("/api/admin/devices"), 401);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string? bearer = null, string? team = null, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (team is not null)
        {
            request.Headers.Add("X-Team-User", team);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return http.SendAsync(request);
    }

    /// <summary><c>X-Team-User: name:scope</c> → a user with that admin scope claim (what an OIDC claims mapping would give).</summary>
    private sealed class TeamHeaderHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers["X-Team-User"].ToString().Split(':') is not [{ Length: > 0 } name, { Length: > 0 } scope])
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ProvisioningAdminDefaults.ScopeClaimType, scope)], Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }
    }

    private sealed class CompositionDbContext(DbContextOptions<CompositionDbContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.UseDeviceProvisioning();
            base.OnModelCreating(modelBuilder);
        }
    }
}
