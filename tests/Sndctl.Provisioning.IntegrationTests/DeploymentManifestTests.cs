using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;
using YamlDotNet.RepresentationModel;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// deploy/kubernetes as an operator applies it: the manifests parse, and the environment the
/// Deployment and its ConfigMap give a pod (Secret values stood in for, the database a fresh one on
/// the test PostgreSQL) starts the host and makes it ready, so every key they set is one the host
/// accepts; the probes they name answer. The Dockerfile's health command is run too.
/// </summary>
public sealed class DeploymentManifestTests : IAsyncLifetime
{
    private static readonly string s_deploy = Path.Combine(RepositoryRoot(), "deploy", "kubernetes", "base");
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-manifest-").FullName;
    private HostProcess? _host;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task The_Kubernetes_manifests_configure_a_host_that_starts_ready_and_answers_their_probes()
    {
        var server = TestPostgres.Server();

        var manifests = Directory.GetFiles(s_deploy, "*.yaml").Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal)).ToDictionary(f => Path.GetFileName(f), Load);
        var kinds = manifests.Values.Select(m => Scalar(m, "kind")).ToList();
        Assert.Contains("Deployment", kinds);
        Assert.Contains("Service", kinds);
        Assert.Contains("PodDisruptionBudget", kinds);
        Assert.Contains("ConfigMap", kinds);
        Assert.Contains("Secret", kinds);
        Assert.Contains("NetworkPolicy", kinds);

        var deployment = manifests.Values.Single(m => Scalar(m, "kind") == "Deployment");
        Assert.Equal("3", Scalar(Map(deployment, "spec"), "replicas"));
        var pod = Map(Map(Map(deployment, "spec"), "template"), "spec");
        var container = (YamlMappingNode)((YamlSequenceNode)pod.Children[new YamlScalarNode("containers")]).Children.Single();
        Assert.Equal("true", Scalar(Map(container, "securityContext"), "readOnlyRootFilesystem"));
        Assert.Equal("true", Scalar(Map(pod, "securityContext"), "runAsNonRoot"));

        // The pod's environment, as Kubernetes would build it: the ConfigMap, the env list, and the Secret's keys as files.
        var database = $"sndctl_manifest_{Guid.NewGuid():N}";
        var keyring = Path.Combine(_work, "keyring.pfx");
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        var configMap = manifests.Values.Single(m => Scalar(m, "kind") == "ConfigMap");
        foreach (var (key, value) in Map(configMap, "data").Children)
        {
            environment[((YamlScalarNode)key).Value!] = ((YamlScalarNode)value).Value!;
        }

        var secrets = new Dictionary<string, string>
        {
            ["ConnectionStrings__Provisioning"] = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
            ["Provisioning__Admin__ApiKeys__0"] = "manifest-admin-key-of-at-least-32-characters",
            ["Provisioning__DataProtection__CertificatePassword"] = "keyring-password-for-the-test",
        };
        foreach (YamlMappingNode variable in ((YamlSequenceNode)container.Children[new YamlScalarNode("env")]).Children)
        {
            var name = Scalar(variable, "name");
            Assert.False(variable.Children.ContainsKey(new YamlScalarNode("valueFrom")) && Map(variable, "valueFrom").Children.ContainsKey(new YamlScalarNode("secretKeyRef")), $"{name} comes from a Secret as an environment variable: mount it as a file");
            environment[name] = variable.Children.TryGetValue(new YamlScalarNode("value"), out var value)
                ? ((YamlScalarNode)value).Value!
                : "sndctl-provisioning-7d9f-abcde"; // fieldRef: metadata.name
        }

        // The Secret's settings are mounted as one file each where Provisioning__SecretsDirectory points; here a folder of ours.
        var mounts = ((YamlSequenceNode)container.Children[new YamlScalarNode("volumeMounts")]).Children.Cast<YamlMappingNode>().ToDictionary(m => Scalar(m, "name"), m => Scalar(m, "mountPath"));
        var volumes = ((YamlSequenceNode)pod.Children[new YamlScalarNode("volumes")]).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "name"));
        Assert.Equal(mounts["config"], environment["Provisioning__SecretsDirectory"]);
        var secretFiles = Directory.CreateDirectory(Path.Combine(_work, "secrets")).FullName;
        foreach (YamlMappingNode item in (YamlSequenceNode)Map(volumes["config"], "secret").Children[new YamlScalarNode("items")])
        {
            File.WriteAllText(Path.Combine(secretFiles, Scalar(item, "path")), secrets[Scalar(item, "key")] + "\n");
        }

        // Kubernetes' own links in a Secret volume: skipped by the configuration provider.
        Directory.CreateDirectory(Path.Combine(secretFiles, "..2026_12_07_00_00_00.000000000"));
        environment["Provisioning__SecretsDirectory"] = secretFiles;

        // The Secret's key ring is mounted at the path the manifest names; here it is a file of ours.
        Assert.Equal(mounts["keyring"] + "/keyring.pfx", environment["Provisioning__DataProtection__CertificateFile"]);
        environment["Provisioning__DataProtection__CertificateFile"] = keyring;
        WriteKeyRingCertificate(keyring, secrets["Provisioning__DataProtection__CertificatePassword"]);

        // The metrics listener: on the container port the manifest names, here on loopback (tests bind nothing else).
        var ports = ((YamlSequenceNode)container.Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>().ToDictionary(p => Scalar(p, "name"), p => Scalar(p, "containerPort"));
        Assert.Equal("http://0.0.0.0:" + ports["metrics"], environment["Provisioning__Telemetry__MetricsUrl"]);
        var metricsPort = Ports.Free();
        environment["Provisioning__Telemetry__MetricsUrl"] = $"http://127.0.0.1:{metricsPort}";

        var url = $"http://127.0.0.1:{Ports.Free()}";
        try
        {
            environment["Provisioning__DataDirectory"] = Path.Combine(_work, "data");
            _host = HostProcess.Start(environment, url);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var probes = new[] { "startupProbe", "livenessProbe", "readinessProbe" }.Select(p => Scalar(Map(Map(container, p), "httpGet"), "path")).ToList();
            await _host.WaitReadyAsync(probes[2], TimeSpan.FromSeconds(60));
            foreach (var probe in probes)
            {
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + probe)).StatusCode);
            }

            var scrape = await http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics");
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Contains("sndctl_provisioning_build_info", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // The Dockerfile's HEALTHCHECK command, against the running host.
            var (exitCode, output, _) = await ProcessRunner.RunAsync("dotnet", [HostProcess.HostDll, "health", "--url", url + "/api/health/live"]);
            Assert.True(exitCode == 0, output);
            var (downCode, _, _) = await ProcessRunner.RunAsync("dotnet", [HostProcess.HostDll, "health", "--url", $"http://127.0.0.1:{Ports.Free()}/api/health/live"]);
            Assert.Equal(1, downCode);
        }
        finally
        {
            _host?.Kill();
            await TestPostgres.DropAsync(server, database);
        }
    }

    [Fact]
    public void The_manifests_ship_safe_defaults()
    {
        var kustomization = Load(Path.Combine(s_deploy, "kustomization.yaml"));
        var resources = ((YamlSequenceNode)kustomization.Children[new YamlScalarNode("resources")]).Children.Select(r => ((YamlScalarNode)r).Value).ToList();
        Assert.DoesNotContain("secret.example.yaml", resources); // its placeholders never reach a cluster through apply -k
        Assert.Contains("networkpolicy.yaml", resources);
        var image = (YamlMappingNode)((YamlSequenceNode)kustomization.Children[new YamlScalarNode("images")]).Children.Single();
        Assert.Matches(@"^\d+\.\d+\.\d+$", Scalar(image, "newTag"));

        var deployment = Load(Path.Combine(s_deploy, "deployment.yaml"));
        var pod = Map(Map(Map(deployment, "spec"), "template"), "spec");
        Assert.Equal("false", Scalar(pod, "automountServiceAccountToken"));
        var container = (YamlMappingNode)((YamlSequenceNode)pod.Children[new YamlScalarNode("containers")]).Children.Single();
        var containerImage = Scalar(container, "image");
        Assert.Matches(@":\d+\.\d+\.\d+$", containerImage);
        var preStop = int.Parse(Scalar(Map(Map(Map(container, "lifecycle"), "preStop"), "sleep"), "seconds"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(preStop, 5, 30);
        Assert.True(int.Parse(Scalar(pod, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture) > preStop + 30, "the grace period covers the preStop pause and the host's 30 s shutdown");

        // No proxy is trusted by default: a pod network there would let any pod pick its client address.
        var configMap = Map(Load(Path.Combine(s_deploy, "configmap.yaml")), "data");
        Assert.DoesNotContain(configMap.Children.Keys, k => ((YamlScalarNode)k).Value!.Contains("KnownProxies", StringComparison.Ordinal));

        // Outbound HTTPS anywhere but the cloud's metadata service.
        var policy = Load(Path.Combine(s_deploy, "networkpolicy.yaml"));
        Assert.Equal(["Ingress", "Egress"], ((YamlSequenceNode)Map(policy, "spec").Children[new YamlScalarNode("policyTypes")]).Children.Select(t => ((YamlScalarNode)t).Value));
        var egress = File.ReadAllText(Path.Combine(s_deploy, "networkpolicy.yaml"));
        Assert.Contains("169.254.169.254/32", egress, StringComparison.Ordinal);
        Assert.Contains("fd00:ec2::254/128", egress, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_example_Secret_applied_as_it_is_stops_the_host_naming_each_placeholder()
    {
        var example = Load(Path.Combine(s_deploy, "secret.example.yaml"));
        var secretFiles = Directory.CreateDirectory(Path.Combine(_work, "example-secrets")).FullName;
        foreach (var (key, value) in Map(example, "stringData").Children)
        {
            await File.WriteAllTextAsync(Path.Combine(secretFiles, ((YamlScalarNode)key).Value!), ((YamlScalarNode)value).Value);
        }

        await File.WriteAllBytesAsync(Path.Combine(_work, "keyring.pfx"), []); // data: keyring.pfx: ""
        var (code, output, error) = await ProcessRunner.RunAsync(
            "dotnet",
            [HostProcess.HostDll, "--urls", $"http://127.0.0.1:{Ports.Free()}"],
            environment: new Dictionary<string, string?>
            {
                ["Provisioning__SecretsDirectory"] = secretFiles,
                ["Provisioning__Storage__Provider"] = "PostgreSql",
                ["Provisioning__DataDirectory"] = Path.Combine(_work, "data"),
                ["Provisioning__DataProtection__CertificateFile"] = Path.Combine(_work, "keyring.pfx"),
            });

        Assert.True(code == 2, $"exit {code}: {output}{error}");
        Assert.Contains("Provisioning:Admin:ApiKeys:0 holds a placeholder", error, StringComparison.Ordinal);
        Assert.Contains("Provisioning:DataProtection:CertificatePassword holds a placeholder", error, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Provisioning holds a placeholder", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal); // the messages, no stack trace

        // The placeholders fixed, an empty key ring is said plainly too (not a crash loop with a stack trace).
        foreach (var file in Directory.GetFiles(secretFiles))
        {
            File.Delete(file);
        }

        await File.WriteAllTextAsync(Path.Combine(secretFiles, "Provisioning__Admin__ApiKeys__0"), "manifest-admin-key-of-at-least-32-characters");
        (code, output, error) = await ProcessRunner.RunAsync(
            "dotnet",
            [HostProcess.HostDll, "--urls", $"http://127.0.0.1:{Ports.Free()}"],
            environment: new Dictionary<string, string?>
            {
                ["Provisioning__SecretsDirectory"] = secretFiles,
                ["Provisioning__DataDirectory"] = Path.Combine(_work, "data"),
                ["Provisioning__DataProtection__CertificateFile"] = Path.Combine(_work, "keyring.pfx"),
            });
        Assert.True(code == 2, $"exit {code}: {output}{error}");
        Assert.Contains("Provisioning:DataProtection:CertificateFile", error, StringComparison.Ordinal);
        Assert.Contains("is missing or empty", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Each overlay as <c>kubectl kustomize</c> renders it: its pod's environment (ConfigMap, env list, the Secret's
    /// items as files) boots the host to ready — after the migration Job's command where the overlay has one — with
    /// the listeners moved to loopback ports.
    /// </summary>
    [Theory]
    [InlineData("postgresql")]
    [InlineData("sqlite")]
    [InlineData("embedded-dns")]
    public async Task Each_overlay_renders_and_its_pods_environment_boots_the_host(string overlay)
    {
        var documents = await RenderAsync(Path.Combine(RepositoryRoot(), "deploy", "kubernetes", "overlays", overlay));
        YamlMappingNode Kind(string kind, string? name = null) => documents.Single(d => Scalar(d, "kind") == kind && (name is null || Scalar(Map(d, "metadata"), "name") == name));
        var deployment = Kind("Deployment");
        var configMap = Map(Kind("ConfigMap"), "data");
        var pod = Map(Map(Map(deployment, "spec"), "template"), "spec");
        var container = (YamlMappingNode)((YamlSequenceNode)pod.Children[new YamlScalarNode("containers")]).Children.Single();
        Assert.Equal("true", Scalar(Map(container, "securityContext"), "readOnlyRootFilesystem"));

        var database = $"sndctl_overlay_{Guid.NewGuid():N}";
        var server = overlay == "sqlite" ? null : TestPostgres.Server();
        var password = "keyring-password-for-the-test";
        var secrets = new Dictionary<string, string>
        {
            ["Provisioning__Admin__ApiKeys__0"] = "overlay-admin-key-of-at-least-32-characters",
            ["Provisioning__DataProtection__CertificatePassword"] = password,
        };
        if (server is not null)
        {
            secrets["ConnectionStrings__Provisioning"] = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        }

        var keyring = Path.Combine(_work, "keyring.pfx");
        WriteKeyRingCertificate(keyring, password);
        Dictionary<string, string?> Environment(YamlMappingNode podSpec, YamlMappingNode containerSpec)
        {
            var environment = configMap.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => (string?)((YamlScalarNode)p.Value).Value, StringComparer.Ordinal);
            foreach (YamlMappingNode variable in ((YamlSequenceNode)containerSpec.Children[new YamlScalarNode("env")]).Children)
            {
                environment[Scalar(variable, "name")] = variable.Children.TryGetValue(new YamlScalarNode("value"), out var value) ? ((YamlScalarNode)value).Value : "sndctl-provisioning-0";
            }

            // The Secret's items as the pod mounts them (an item whose key the Secret lacks would stop the pod: none may be missing).
            var volumes = ((YamlSequenceNode)podSpec.Children[new YamlScalarNode("volumes")]).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "name"));
            var files = Directory.CreateDirectory(Path.Combine(_work, "secrets-" + Guid.NewGuid().ToString("N"))).FullName;
            foreach (YamlMappingNode item in (YamlSequenceNode)Map(volumes["config"], "secret").Children[new YamlScalarNode("items")])
            {
                Assert.True(secrets.ContainsKey(Scalar(item, "key")), $"{overlay} mounts the Secret key {Scalar(item, "key")}, which this deployment does not need");
                File.WriteAllText(Path.Combine(files, Scalar(item, "path")), secrets[Scalar(item, "key")] + "\n");
            }

            environment["Provisioning__SecretsDirectory"] = files;
            environment["Provisioning__DataProtection__CertificateFile"] = keyring;
            environment["Provisioning__DataDirectory"] = Path.Combine(_work, "data");
            return environment;
        }

        try
        {
            if (documents.Any(d => Scalar(d, "kind") == "Job"))
            {
                var jobPod = Map(Map(Map(Kind("Job"), "spec"), "template"), "spec");
                var jobContainer = (YamlMappingNode)((YamlSequenceNode)jobPod.Children[new YamlScalarNode("containers")]).Children.Single();
                var arguments = ((YamlSequenceNode)jobContainer.Children[new YamlScalarNode("args")]).Children.Select(a => ((YamlScalarNode)a).Value!).ToArray();
                var migrate = await ProcessRunner.RunAsync("dotnet", [HostProcess.HostDll, .. arguments], _work, Environment(jobPod, jobContainer));
                Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
                Assert.Equal("false", configMap.Children[new YamlScalarNode("Provisioning__Storage__MigrateOnStart")].ToString());
            }

            var environment = Environment(pod, container);
            var metricsPort = Ports.Free();
            environment["Provisioning__Telemetry__MetricsUrl"] = $"http://127.0.0.1:{metricsPort}"; // tests bind loopback only
            var dnsPort = Ports.Free();
            if (environment.TryGetValue("Provisioning__Dns__Authoritative__Endpoints__0", out var dnsEndpoint))
            {
                var ports = ((YamlSequenceNode)container.Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>().ToList();
                Assert.Contains(ports, p => Scalar(p, "name") == "dns-udp" && Scalar(p, "protocol") == "UDP" && dnsEndpoint!.EndsWith(":" + Scalar(p, "containerPort"), StringComparison.Ordinal));
                var dnsService = Map(Kind("Service", "sndctl-provisioning-dns"), "spec");
                Assert.Equal(["53/UDP", "53/TCP"], ((YamlSequenceNode)dnsService.Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>().Select(p => Scalar(p, "port") + "/" + Scalar(p, "protocol")));
                environment["Provisioning__Dns__Authoritative__Endpoints__0"] = $"127.0.0.1:{dnsPort}";
            }

            _host = HostProcess.Start(environment);
            await _host.WaitReadyAsync("/api/health/ready", TimeSpan.FromSeconds(60));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics")).StatusCode);
            if (overlay == "embedded-dns")
            {
                var soa = await Dig.QueryAsync(dnsPort, configMap.Children[new YamlScalarNode("Provisioning__BaseDomain")].ToString(), "SOA");
                Assert.Single(soa.Answer);
            }

            if (overlay == "sqlite")
            {
                Assert.Equal("1", Scalar(Map(deployment, "spec"), "replicas"));
                Assert.Equal("Recreate", Scalar(Map(Map(deployment, "spec"), "strategy"), "type"));
                Assert.Equal("PersistentVolumeClaim", Scalar(documents.Single(d => Scalar(d, "kind") == "PersistentVolumeClaim"), "kind"));
                Assert.True(File.Exists(Path.Combine(_work, "data", "provisioning.db")));
            }
        }
        finally
        {
            _host?.Kill();
            if (server is not null)
            {
                await TestPostgres.DropAsync(server, database);
            }
        }
    }

    private static async Task<List<YamlMappingNode>> RenderAsync(string overlay)
    {
        var (code, output, error) = await ProcessRunner.RunAsync("kubectl", ["kustomize", overlay]);
        Assert.True(code == 0, $"kubectl kustomize {overlay}: {error}");
        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static void WriteKeyRingCertificate(string path, string password)
    {
        using var key = RSA.Create(3072);
        var request = new CertificateRequest("CN=keyring", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(100));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
    }

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value!;

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sndctl.Provisioning.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Sndctl.Provisioning.sln) was not found above " + AppContext.BaseDirectory);
    }
}
