namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// An app built from the packed packages alone (tests/PackageConsumer, no project references), as an embedder
/// builds one: it restores this build's packages (tests/run.sh packs them into SNDCTL_TEST_PACKAGES; without
/// it the test packs them itself) into a package folder of its own, so no earlier build's package of the same
/// version is used, then runs.
/// </summary>
public sealed class PackageConsumerTests(PackageConsumerTests.ConsumerApp consumer) : IClassFixture<PackageConsumerTests.ConsumerApp>
{
    private readonly string _app = consumer.Path;
    private readonly string _work = consumer.Work;

    [Fact]
    public async Task An_app_on_the_packages_that_replaces_Cloudflare_with_Route53_starts_and_validates_Route53_only()
    {
        var (code, output, error) = await ProcessRunner.RunAsync("dotnet", [_app, "route53-last"], workingDirectory: _work);

        Assert.True(code == 0, output + error);
        Assert.Contains("started; dns provider: Route53DnsProvider", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Cloudflare", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_app_with_the_last_provider_misconfigured_is_refused_naming_its_setting()
    {
        var (code, output, error) = await ProcessRunner.RunAsync("dotnet", [_app, "cloudflare-last"], workingDirectory: _work);

        Assert.True(code == 2, output + error);
        Assert.Contains("CloudflareDnsOptions.ApiToken is empty", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Route53DnsOptions", output, StringComparison.Ordinal);
    }

    /// <summary>The consumer app, built once for the class.</summary>
    public sealed class ConsumerApp : IAsyncLifetime
    {
        public string Work { get; } = Directory.CreateTempSubdirectory("sndctl-consumer-").FullName;

        public string Path { get; private set; } = string.Empty;

        public async ValueTask InitializeAsync()
        {
            var root = DeploymentManifestTests.RepositoryRoot();
            var packages = Environment.GetEnvironmentVariable("SNDCTL_TEST_PACKAGES");
            if (string.IsNullOrEmpty(packages))
            {
                packages = System.IO.Path.Combine(Work, "packages");
                var (packCode, packOut, packErr) = await ProcessRunner.RunAsync("dotnet", ["pack", System.IO.Path.Combine(root, "Sndctl.Provisioning.sln"), "-c", "Release", "-nologo", "-v", "quiet", "-o", packages], timeout: TimeSpan.FromMinutes(8));
                Assert.True(packCode == 0, packOut + packErr);
            }

            // The version the packages were packed with (from the git tag, MinVer).
            var version = System.IO.Path.GetFileName(Directory.GetFiles(packages, "Sndctl.Provisioning.Core.*.nupkg").Single())["Sndctl.Provisioning.Core.".Length..^".nupkg".Length];
            var output = System.IO.Path.Combine(Work, "app");
            var (code, stdout, stderr) = await ProcessRunner.RunAsync(
                "dotnet",
                ["build", System.IO.Path.Combine(root, "tests", "PackageConsumer"), "-c", "Release", "-nologo", "-v", "quiet", "-o", output,
                    "-p:RestoreAdditionalProjectSources=" + packages, "-p:SndctlVersion=" + version, "-p:RestorePackagesPath=" + System.IO.Path.Combine(Work, "nuget")],
                timeout: TimeSpan.FromMinutes(5));
            Assert.True(code == 0, stdout + stderr);
            Path = System.IO.Path.Combine(output, "PackageConsumer.dll");
        }

        public ValueTask DisposeAsync()
        {
            Directory.Delete(Work, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
