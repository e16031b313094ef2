using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// The local ACME lab tests/acme-lab.sh starts: Pebble (and an EAB-requiring Pebble), and
/// pebble-challtestsrv as Pebble's DNS. Tests skip without it, except in CI where they fail.
/// </summary>
public sealed class AcmeLab
{
    private AcmeLab()
    {
    }

    public required Uri Directory { get; init; }
    public required Uri EabDirectory { get; init; }
    public required string EabKeyId { get; init; }
    public required string EabHmacKey { get; init; }
    public required Uri EabManagement { get; init; }
    public required Uri Management { get; init; }
    public required string TlsRootFile { get; init; }
    public required string TlsCertificateFile { get; init; }
    public required string TlsKeyFile { get; init; }
    public required Uri ChallTestSrv { get; init; }
    public required string ChallTestSrvDns { get; init; }
    public required Uri DecoyChallTestSrv { get; init; }
    public required string DecoyChallTestSrvDns { get; init; }

    /// <summary>The lab, or a skip (a failure in CI) when tests/run.sh did not start it.</summary>
    public static AcmeLab Require()
    {
        string Get(string name)
        {
            var value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value))
            {
                if (Environment.GetEnvironmentVariable("CI") == "true")
                {
                    Assert.Fail($"{name} is not set: tests/run.sh starts Pebble and sets it.");
                }

                Assert.Skip($"{name} is not set; tests/run.sh starts Pebble and sets it.");
            }

            return value!;
        }

        return new AcmeLab
        {
            Directory = new Uri(Get("SNDCTL_TEST_PEBBLE_DIRECTORY")),
            EabDirectory = new Uri(Get("SNDCTL_TEST_PEBBLE_EAB_DIRECTORY")),
            EabKeyId = Get("SNDCTL_TEST_PEBBLE_EAB_KID"),
            EabHmacKey = Get("SNDCTL_TEST_PEBBLE_EAB_HMAC"),
            EabManagement = new Uri(Get("SNDCTL_TEST_PEBBLE_EAB_MANAGEMENT")),
            Management = new Uri(Get("SNDCTL_TEST_PEBBLE_MANAGEMENT")),
            TlsRootFile = Get("SNDCTL_TEST_PEBBLE_TLS_ROOT"),
            TlsCertificateFile = Get("SNDCTL_TEST_PEBBLE_TLS_CERT"),
            TlsKeyFile = Get("SNDCTL_TEST_PEBBLE_TLS_KEY"),
            ChallTestSrv = new Uri(Get("SNDCTL_TEST_CHALLTESTSRV")),
            ChallTestSrvDns = Get("SNDCTL_TEST_CHALLTESTSRV_DNS"),
            DecoyChallTestSrv = new Uri(Get("SNDCTL_TEST_DECOY_CHALLTESTSRV")),
            DecoyChallTestSrvDns = Get("SNDCTL_TEST_DECOY_CHALLTESTSRV_DNS"),
        };
    }

    /// <summary>
    /// Starts one more Pebble of the test's own (the lab's TLS certificate, ports of its own) that resolves
    /// DNS-01 through <paramref name="dnsServer"/> (<c>host:port</c>), with the validator's random 0–4 s sleeps
    /// when <paramref name="validatorSleeps"/> (as at a real CA); returns once it accepts connections. The
    /// caller stops the process.
    /// </summary>
    public (System.Diagnostics.Process Process, Uri Directory) StartPebble(string dnsServer, bool validatorSleeps)
    {
        int FreePort()
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var (port, management) = (FreePort(), FreePort());
        var config = Path.Combine(Path.GetTempPath(), $"sndctl-pebble-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, System.Text.Json.JsonSerializer.Serialize(new
        {
            pebble = new
            {
                listenAddress = $"127.0.0.1:{port}",
                managementListenAddress = $"127.0.0.1:{management}",
                certificate = TlsCertificateFile,
                privateKey = TlsKeyFile,
                httpPort = 5002,
                tlsPort = 5001,
                ocspResponderURL = "",
                externalAccountBindingRequired = false,
            },
        }));
        var start = new System.Diagnostics.ProcessStartInfo("pebble", ["-config", config, "-dnsserver", dnsServer])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PEBBLE_VA_NOSLEEP"] = validatorSleeps ? "0" : "1";
        start.Environment["PEBBLE_AUTHZREUSE"] = "0";
        var process = System.Diagnostics.Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect(System.Net.IPAddress.Loopback, port);
                break;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(100);
            }
        }

        return (process, new Uri($"https://127.0.0.1:{port}/dir"));
    }

    /// <summary>An HttpClient that trusts Pebble's HTTPS (the lab's TLS root) and nothing else extra.</summary>
    public HttpClient CreateHttpClient()
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(TlsRootFile);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0 || certificate is not X509Certificate2 leaf)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(leaf);
                },
            },
        };
        return new HttpClient(handler);
    }

    public static async Task SetTxtAsync(Uri challTestSrv, string name, string value)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync(new Uri(challTestSrv, "set-txt"), new { host = name.TrimEnd('.') + ".", value });
        response.EnsureSuccessStatusCode();
    }

    public static async Task SetCnameAsync(Uri challTestSrv, string name, string target)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync(new Uri(challTestSrv, "set-cname"), new { host = name.TrimEnd('.') + ".", target = target.TrimEnd('.') + "." });
        response.EnsureSuccessStatusCode();
    }

    public static async Task ClearTxtAsync(Uri challTestSrv, string name)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync(new Uri(challTestSrv, "clear-txt"), new { host = name.TrimEnd('.') + "." });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Pebble's issuing root and intermediate (new at every Pebble start), for chain checks.</summary>
    public async Task<(X509Certificate2 Root, X509Certificate2 Intermediate)> GetIssuingCertificatesAsync(int chain = 0, bool eab = false)
    {
        using var http = CreateHttpClient();
        var management = eab ? EabManagement : Management;
        var root = X509Certificate2.CreateFromPem(await http.GetStringAsync(new Uri(management, $"roots/{chain}")));
        var intermediate = X509Certificate2.CreateFromPem(await http.GetStringAsync(new Uri(management, $"intermediates/{chain}")));
        return (root, intermediate);
    }

    /// <summary>Pebble's view of a certificate: <c>Valid</c> or <c>Revoked</c>.</summary>
    public async Task<string?> GetCertificateStatusAsync(string serialNumberHex, bool eab = false)
    {
        using var http = CreateHttpClient();
        var json = JsonNode.Parse(await http.GetStringAsync(new Uri(eab ? EabManagement : Management, $"cert-status-by-serial/{serialNumberHex.ToLowerInvariant().TrimStart('0')}")));
        return json?["Status"]?.GetValue<string>();
    }

    /// <summary>Builds the chain of the PEM's leaf to <paramref name="root"/> with the PEM's own intermediates only.</summary>
    public static X509ChainStatusFlags VerifyChain(string chainPem, X509Certificate2 root, DateTimeOffset? at = null)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(chainPem);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = (at ?? DateTimeOffset.UtcNow).UtcDateTime;
        for (var i = 1; i < certificates.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(certificates[i]);
        }

        chain.Build(certificates[0]);
        return chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (flags, status) => flags | status.Status);
    }
}
