// An app on the packed packages: "route53-last" calls UseCloudflareDns(o => { }) and then UseRoute53Dns(...),
// and must start validating Route53 only; "cloudflare-last" does the reverse with an empty Cloudflare token,
// and must stop naming Cloudflare's setting. Prints what it did; exit 0 started, 2 refused its configuration.
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

var order = args.FirstOrDefault() ?? "route53-last";
var builder = WebApplication.CreateBuilder([]);
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var database = Path.Combine(Path.GetTempPath(), $"consumer-{Guid.NewGuid():N}.db");
builder.Services.AddDbContext<AppDbContext>(o => o.UseSqlite($"Data Source={database}"));
builder.Services.AddDataProtection().SetApplicationName("consumer").PersistKeysToDbContext<AppDbContext>();

var provisioning = builder.Services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
    .UsePrivateCaIssuer()
    .UseEntityFrameworkStores<AppDbContext>()
    .AddAspNetCore(o => o.AdminApiKeys.Add(new string('k', 40)));
void Route53() => provisioning.UseRoute53Dns(o =>
{
    o.AccessKeyId = "AKIDEXAMPLE";
    o.SecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    o.HostedZoneId = "Z0123456789";
    o.VerifyOnStart = false;
});
if (order == "route53-last")
{
    provisioning.UseCloudflareDns(o => { });
    Route53();
}
else
{
    Route53();
    provisioning.UseCloudflareDns(o => { });
}

var app = builder.Build();
await using (var scope = app.Services.CreateAsyncScope())
{
    await scope.ServiceProvider.GetRequiredService<AppDbContext>().Database.EnsureCreatedAsync();
}

app.UseExceptionHandler();
app.MapDeviceProvisioning();
app.MapDeviceProvisioningAdmin();
try
{
    await app.StartAsync();
}
catch (OptionsValidationException ex)
{
    Console.WriteLine("refused: " + string.Join(" | ", ex.Failures));
    return 2;
}

await using (var scope = app.Services.CreateAsyncScope())
{
    Console.WriteLine("started; dns provider: " + scope.ServiceProvider.GetRequiredService<IDnsProvider>().GetType().Name);
}

await app.StopAsync();
File.Delete(database);
return 0;

internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.UseDeviceProvisioning();
        base.OnModelCreating(modelBuilder);
    }
}
