using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The admin portal driven in headless Chromium (Debian's, installed by tests/run.sh) against the host
/// on loopback. With SNDCTL_SCREENSHOTS set to a directory, the main pages are saved there
/// (docs/images holds the ones in the README).
/// </summary>
public sealed partial class AdminPortalTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly List<ProvisioningHostFactory> _hosts = [];
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: tests/run.sh installs Debian's chromium package.");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
            host.DeleteData();
        }
    }

    [Fact]
    public async Task An_admin_signs_in_creates_a_device_watches_it_register_disables_it_and_batch_creates()
    {
        var (host, baseUrl) = StartHost();
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, AcceptDownloads = true });
        var page = await context.NewPageAsync();

        // Sign in: a wrong key is refused, the right one lands on the dashboard.
        await page.GotoAsync("/admin");
        Assert.EndsWith("/admin/login?ReturnUrl=%2Fadmin", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("Admin API key").FillAsync("not-the-key-0123456789abcdef");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not an admin API key");
        await page.GetByLabel("Admin API key").FillAsync(host.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        Assert.DoesNotContain(host.AdminKey, page.Url, StringComparison.Ordinal);
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "sndctl-admin");
        Assert.True(cookie.HttpOnly);
        Assert.Equal("/admin", cookie.Path);
        Assert.Equal(-1, cookie.Expires); // A session cookie: gone with the browser session.
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(host.AdminKey, cookie.Value, StringComparison.Ordinal);
        Assert.Equal("0 0", await page.EvaluateAsync<string>("() => localStorage.length + ' ' + sessionStorage.length"));

        // Keyboard: the first Tab reaches the skip link, the next ones the navigation.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Devices", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));

        // Create one device: the secret is shown once, with a copy button and a warning.
        await page.GetByRole(AriaRole.Link, new() { Name = "New device" }).ClickAsync();
        await page.GetByLabel("Labels").FillAsync("site=berlin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create device" }).ClickAsync();
        await Assertions.Expect(page.GetByText("The secret is shown only now.")).ToBeVisibleAsync();
        var deviceId = (await page.Locator("#created-id").TextContentAsync())!.Trim();
        var secret = await page.GetByLabel("Device secret").InputValueAsync();
        Assert.Matches("^[0-9a-f]{12}$", deviceId);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy" })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "new-device");

        // Listed as pending, with no certificate.
        await page.GetByRole(AriaRole.Link, new() { Name = "Devices", Exact = true }).ClickAsync();
        var row = page.Locator($"tr[data-device='{deviceId}']");
        await Assertions.Expect(row).ToContainTextAsync("pending");
        await Assertions.Expect(row).ToContainTextAsync("no certificate");

        // The device registers over the device API; its status and expiry appear.
        using (var device = host.Device())
        {
            var registered = await device.SendAsync(ProvisioningHostFactory.Post("/api/register", secret, new { deviceId, addresses = new[] { "192.168.1.23", "fd00::23" } }));
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
            var notAfter = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("notAfter").GetDateTimeOffset();
            await page.ReloadAsync();
            await Assertions.Expect(row).ToContainTextAsync("active");
            await Assertions.Expect(row.Locator("td.expiry time")).ToHaveTextAsync(notAfter.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        }

        await ScreenshotAsync(page, "devices");

        // The device page: its certificate and events; then disable it, confirmed.
        await row.GetByRole(AriaRole.Link, new() { Name = deviceId }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = deviceId })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("td[data-label='State']")).ToHaveTextAsync("current");
        await Assertions.Expect(page.GetByText("certificate.issued")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#addresses")).ToHaveTextAsync("192.168.1.23, fd00::23");
        await ScreenshotAsync(page, "device");
        await page.GetByRole(AriaRole.Link, new() { Name = "Disable" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Disable {deviceId}?" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, disable" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Disabled.");
        await Assertions.Expect(page.Locator("h1 .badge")).ToHaveTextAsync("disabled");
        using (var device = host.Device())
        {
            var refused = await device.SendAsync(ProvisioningHostFactory.Register(new CreatedDevice(deviceId, secret, deviceId + ".devices.localhost", "pending", DateTimeOffset.UtcNow)));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // Rotate the secret: confirmed, then the new one is shown once.
        await page.GetByRole(AriaRole.Link, new() { Name = "Rotate secret" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, rotate" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Shown only now.")).ToBeVisibleAsync();
        var rotated = await page.GetByLabel("Device secret").InputValueAsync();
        Assert.NotEqual(secret, rotated);
        await page.GotoAsync($"/admin/devices/{deviceId}");
        Assert.DoesNotContain(rotated, await page.ContentAsync(), StringComparison.Ordinal);

        // Batch creation downloads a CSV with each new device's secret.
        await page.GetByRole(AriaRole.Link, new() { Name = "Batch" }).ClickAsync();
        await page.GetByLabel("How many devices").FillAsync("5");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Create and download CSV" }).ClickAsync());
        Assert.Matches("^devices-[0-9]{8}-[0-9]{6}\\.csv$", download.SuggestedFilename);
        var csv = File.ReadAllLines(await download.PathAsync());
        Assert.Equal("deviceId,secret,hostname", csv[0]);
        Assert.Equal(5, csv.Skip(1).Count(l => CsvRow().IsMatch(l)));
        await page.GotoAsync("/admin/devices");
        await Assertions.Expect(page.GetByText("6 devices")).ToBeVisibleAsync();

        await page.GotoAsync("/admin");
        await Assertions.Expect(page.Locator(".tile").First).ToContainTextAsync("5 pending");
        await ScreenshotAsync(page, "dashboard");

        // Delete one of the batch, confirmed: it leaves the list.
        var victim = csv[1].Split(',')[0];
        await page.GotoAsync($"/admin/devices/{victim}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Delete" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Device {victim} deleted.");
        await Assertions.Expect(page.GetByText("5 devices")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"tr[data-device='{victim}']")).ToHaveCountAsync(0);

        // On a phone-sized screen the list does not scroll sideways.
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/admin/devices");
        Assert.True(
            await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1 && [...document.querySelectorAll('.table-wrap')].every(w => w.scrollWidth <= w.clientWidth + 1)"),
            "the device list fits a 390 px screen without sideways scrolling");
        await ScreenshotAsync(page, "devices-phone");

        // Sign out: the portal asks for the key again.
        await page.SetViewportSizeAsync(1280, 900);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GotoAsync("/admin/devices");
        Assert.Contains("/admin/login", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pending_CSR_requests_are_approved_or_denied_from_the_portal()
    {
        var (host, baseUrl) = StartHost(new() { ["Provisioning:PrivateCa:Approval"] = "Manual" });
        using var client = host.Device();
        var first = await SubmitAsync(client, "192.168.10.20");
        var second = await SubmitAsync(client, "10.1.1.1");
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await SignInAsync(context, host);

        await page.GetByRole(AriaRole.Link, new() { Name = "CSR requests" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Waiting for a decision (2)" })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "csr");
        await page.Locator($"article[data-request='{first}']").GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{first} approved.");
        var denial = page.Locator($"article[data-request='{second}']");
        await denial.GetByLabel("Reason to deny").FillAsync("not our subnet");
        await denial.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{second} denied.");

        Assert.Equal("approved", (await client.GetFromJsonAsync<JsonElement>($"/api/v1/csr/{first}")).GetProperty("status").GetString());
        var denied = await client.GetFromJsonAsync<JsonElement>($"/api/v1/csr/{second}");
        Assert.Equal("Denied by an administrator: not our subnet", denied.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Forms_need_the_antiforgery_token_and_pages_need_the_session()
    {
        var (host, baseUrl) = StartHost();
        using (var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) })
        {
            Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync("/admin/devices")).StatusCode);
        }

        using var http = await SignedInClientAsync(host);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/admin/devices")).StatusCode);

        // Signed in, but without the form's token: refused, and nothing created.
        var forged = await http.PostAsync("/admin/devices/new", new FormUrlEncodedContent(new Dictionary<string, string> { ["DeviceId"] = "forged000001" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        using var admin = host.Admin();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/admin/devices/forged000001")).StatusCode);

        var page = await http.GetAsync("/admin");
        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.True(page.Headers.CacheControl?.NoStore);
        Assert.DoesNotContain(host.AdminKey, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>An HTTP client signed in to the portal the way a browser is: login form, antiforgery token, session cookie.</summary>
    internal static async Task<HttpClient> SignedInClientAsync(ProvisioningHostFactory host, string? key = null)
    {
        using var probe = host.Device();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = probe.BaseAddress };
        var token = Token(await http.GetStringAsync("/admin/login"));
        var signedIn = await http.PostAsync("/admin/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key ?? host.AdminKey, ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return http;
    }

    [Fact]
    public async Task The_dashboard_shows_the_CA_budget_and_the_queue_of_waiting_devices()
    {
        var lab = Sndctl.Provisioning.Testing.AcmeLab.Require();
        var (host, baseUrl) = StartHost(new()
        {
            ["Provisioning:PrivateCa:PostsPerMinute"] = null,
            ["Provisioning:BaseDomain"] = "devices.example.test",
            ["Provisioning:Issuer"] = "Acme",
            ["Provisioning:Acme:DirectoryUrl"] = lab.Directory.AbsoluteUri,
            ["Provisioning:Acme:AcceptTermsOfService"] = "true",
            ["Provisioning:Acme:TrustedRootFile"] = lab.TlsRootFile,
            ["Provisioning:Acme:PropagationNameservers:0"] = lab.ChallTestSrvDns,
            ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1",
            ["Provisioning:Dns:Provider"] = "ChallTestSrv",
            ["Provisioning:Dns:ChallTestSrv:ManagementUrl"] = lab.ChallTestSrv.AbsoluteUri,
        });
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using (var device = host.Device())
        {
            Assert.Equal(HttpStatusCode.OK, (await device.SendAsync(ProvisioningHostFactory.Register(first))).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await device.SendAsync(ProvisioningHostFactory.Register(second))).StatusCode);
        }

        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl });
        var page = await SignInAsync(context, host);
        await Assertions.Expect(page.Locator("p.budget")).ToContainTextAsync("CA budget for example.test: 1 of 1 new certificates per 7 days");
        await Assertions.Expect(page.Locator("p.queue")).ToContainTextAsync("1 new devices wait in the queue");
        await Assertions.Expect(page.Locator("p.renewals")).ToContainTextAsync("Renewals due this week: 0");
        await Assertions.Expect(page.Locator("meter[aria-label='CA budget used']")).ToHaveAttributeAsync("value", "1");
    }

    private (ProvisioningHostFactory Host, string BaseUrl) StartHost(Dictionary<string, string?>? settings = null)
    {
        var started = ProvisioningHostFactory.StartForCsr(settings);
        _hosts.Add(started.Host);
        return started;
    }

    private static async Task<IPage> SignInAsync(IBrowserContext context, ProvisioningHostFactory host)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/admin/login");
        await page.GetByLabel("Admin API key").FillAsync(host.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        return page;
    }

    private static async Task<string> SubmitAsync(HttpClient client, string ip)
    {
        var response = await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr(ip) });
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetString()!;
    }

    internal static string Token(string html) => AntiforgeryField().Match(html).Groups[1].Value;

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("SNDCTL_SCREENSHOTS") is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("^[0-9a-f]{12},[^,]+,[0-9a-f]{12}\\.devices\\.localhost$")]
    private static partial Regex CsvRow();
}
