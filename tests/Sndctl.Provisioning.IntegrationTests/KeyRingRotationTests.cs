using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Npgsql;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The key-ring certificate: rotated with the old one listed as previous (stored keys still open), retired after
/// <c>keyring rewrap</c>; an instance with another certificate than the database's refuses to start, naming the
/// setting — a restored database without its certificate, or PostgreSQL replicas that each made their own.
/// </summary>
public sealed class KeyRingRotationTests : HostCommandTest
{
    private const string AdminKey = "keyring-test-admin-key-0123456789abcdef01234";

    [Fact]
    public async Task A_rotated_certificate_keeps_every_stored_key_and_the_old_one_retires_after_rewrap()
    {
        var data = Path.Combine(Work, "data");
        var old = Path.Combine(data, "keyring-protection.pfx");
        var next = Path.Combine(Work, "next.pfx");
        await File.WriteAllBytesAsync(next, NewKeyRingCertificate("next"));

        CreatedDevice device;
        string certificate, privateKey;
        await using (var host = HostProcess.Start(Settings(data)))
        {
            await host.WaitReadyAsync();
            using var admin = host.CreateClient(AdminKey);
            device = (await (await admin.PostAsJsonAsync("/api/admin/devices", new { })).Content.ReadFromJsonAsync<CreatedDevice>())!;
            (certificate, privateKey) = await RegisterAsync(host, device);
            host.Kill();
        }

        // The new certificate alone cannot read the key ring: refused at start, with the settings to use.
        var alone = await Serve(Settings(data, ("Provisioning__DataProtection__CertificateFile", next)));
        Assert.Equal(2, alone.ExitCode);
        Assert.Contains("Provisioning:DataProtection:CertificateFile", alone.Error, StringComparison.Ordinal);
        Assert.Contains("PreviousCertificates", alone.Error, StringComparison.Ordinal);

        var rotating = Settings(data, ("Provisioning__DataProtection__CertificateFile", next), ("Provisioning__DataProtection__PreviousCertificates__0__File", old));
        await using (var host = HostProcess.Start(rotating))
        {
            await host.WaitReadyAsync();
            Assert.Equal((certificate, privateKey), await RegisterAsync(host, device));
            host.Kill();
        }

        // The database now belongs to the new certificate: the old configuration is refused.
        Assert.Equal(2, (await Serve(Settings(data))).ExitCode);

        var rewrap = await Host(["keyring", "rewrap"], rotating);
        Assert.True(rewrap.ExitCode == 0, rewrap.Output + rewrap.Error);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(rewrap.Output, "Re-encrypted [1-9][0-9]* of [1-9][0-9]* key"), rewrap.Output);

        await using (var host = HostProcess.Start(Settings(data, ("Provisioning__DataProtection__CertificateFile", next))))
        {
            await host.WaitReadyAsync();
            Assert.Equal((certificate, privateKey), await RegisterAsync(host, device));
            host.Kill();
        }

        // Retired for good: the old certificate opens nothing any more, even when listed as previous of a third.
        var third = Path.Combine(Work, "third.pfx");
        await File.WriteAllBytesAsync(third, NewKeyRingCertificate("third"));
        var fromOld = await Host(["keyring", "rewrap"], Settings(data, ("Provisioning__DataProtection__CertificateFile", third), ("Provisioning__DataProtection__PreviousCertificates__0__File", old)));
        Assert.Equal(3, fromOld.ExitCode);
        Assert.Contains("Nothing was changed", fromOld.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_PostgreSQL_replica_with_its_own_key_ring_certificate_is_refused_at_start()
    {
        var server = TestPostgres.Server();
        var database = $"sndctl_keyring_{Guid.NewGuid():N}";
        var connection = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        try
        {
            var first = Postgres(Path.Combine(Work, "replica-1"), connection);
            await using var host = HostProcess.Start(first);
            await host.WaitReadyAsync();

            var second = await Serve(Postgres(Path.Combine(Work, "replica-2"), connection));
            Assert.Equal(2, second.ExitCode);
            Assert.Contains("Provisioning:DataProtection:CertificateFile", second.Error, StringComparison.Ordinal);

            // With the first one's certificate it joins.
            await using var joined = HostProcess.Start(new Dictionary<string, string?>(Postgres(Path.Combine(Work, "replica-3"), connection))
            {
                ["Provisioning__DataProtection__CertificateFile"] = Path.Combine(Work, "replica-1", "keyring-protection.pfx"),
            });
            await joined.WaitReadyAsync();
            using var client = joined.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/ca/root.pem")).StatusCode);
            joined.Kill();
            host.Kill();
        }
        finally
        {
            await TestPostgres.DropAsync(server, database);
        }
    }

    private static byte[] NewKeyRingCertificate(string name)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest($"CN={name} key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(10));
        return certificate.Export(X509ContentType.Pkcs12);
    }

    private static Dictionary<string, string?> Settings(string data, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Provisioning__DataDirectory"] = data,
            ["Provisioning__Admin__ApiKeys__0"] = AdminKey,
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static Dictionary<string, string?> Postgres(string data, string connection) => new()
    {
        ["Provisioning__DataDirectory"] = data,
        ["Provisioning__Storage__Provider"] = "PostgreSql",
        ["ConnectionStrings__Provisioning"] = connection,
    };

    private static async Task<(string Certificate, string PrivateKey)> RegisterAsync(HostProcess host, CreatedDevice device)
    {
        using var client = host.CreateClient();
        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("certificate").GetString()!, body.GetProperty("privateKey").GetString()!);
    }

    /// <summary>Starts the server and waits for it to exit (a refused configuration exits 2 at once).</summary>
    private Task<(int ExitCode, string Output, string Error)> Serve(IDictionary<string, string?> environment)
        => Host(["--urls", $"http://127.0.0.1:{Ports.Free()}"], environment, TimeSpan.FromSeconds(60));
}
