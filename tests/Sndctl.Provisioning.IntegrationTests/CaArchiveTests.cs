using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// <c>ca export</c> writes the private CA as passphrase-encrypted PKCS#12 that openssl opens; <c>ca import</c> puts it
/// (or a root and intermediate made with openssl) into a deployment without a CA, whose devices then chain to it.
/// </summary>
public sealed class CaArchiveTests : HostCommandTest
{

    public override async ValueTask InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(Work, "passphrase"), "a long export passphrase\n");
        await File.WriteAllTextAsync(Path.Combine(Work, "wrong"), "not the export passphrase\n");
    }

    [Fact]
    public async Task The_exported_CA_opens_in_openssl_and_imports_into_a_new_deployment_that_issues_under_the_same_root()
    {
        var source = Data("source");
        string root;
        await using (var host = new ProvisioningHostFactory(source))
        {
            using var client = host.Device();
            root = await client.GetStringAsync("/api/v1/ca/root.pem");
            await RegisterAndVerifyAsync(host, root);
        }

        var export = await Host(["ca", "export", "--out", "ca.p12", "--passphrase-file", "passphrase"], source);
        Assert.True(export.ExitCode == 0, export.Output + export.Error);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Work, "ca.p12")));
        }

        Assert.Equal(3, (await Host(["ca", "export", "--out", "ca.p12", "--passphrase-file", "passphrase"], source)).ExitCode); // never over a file

        // openssl opens it with the passphrase (and not without): four certificates with their keys, by name.
        var info = await ProcessRunner.RunAsync("openssl", ["pkcs12", "-in", "ca.p12", "-passin", "file:passphrase", "-nodes", "-out", "opened.pem"], Work);
        Assert.True(info.ExitCode == 0, info.Error);
        var opened = await File.ReadAllTextAsync(Path.Combine(Work, "opened.pem"));
        foreach (var name in new[] { "root", "issuer", "webhook", "private_server" })
        {
            Assert.Contains($"friendlyName: {name}", opened, StringComparison.Ordinal);
        }

        Assert.Equal(4, System.Text.RegularExpressions.Regex.Count(opened, "BEGIN PRIVATE KEY"));
        Assert.NotEqual(0, (await ProcessRunner.RunAsync("openssl", ["pkcs12", "-in", "ca.p12", "-passin", "file:wrong", "-nodes", "-noout"], Work)).ExitCode);

        var target = Data("target");
        var wrong = await Host(["ca", "import", "--from", "ca.p12", "--passphrase-file", "wrong"], target);
        Assert.Equal(3, wrong.ExitCode);
        Assert.Contains("nothing was imported", wrong.Error, StringComparison.Ordinal);
        var import = await Host(["ca", "import", "--from", "ca.p12", "--passphrase-file", "passphrase"], target);
        Assert.True(import.ExitCode == 0, import.Output + import.Error);
        await File.WriteAllTextAsync(Path.Combine(Work, "source-root.pem"), root);
        var fingerprint = (await ProcessRunner.OpenSslAsync(Work, "x509", "-in", "source-root.pem", "-noout", "-fingerprint", "-sha256")).Split('=')[1].Replace(":", string.Empty, StringComparison.Ordinal).Trim();
        Assert.Contains(fingerprint, import.Output, StringComparison.Ordinal);
        var twice = await Host(["ca", "import", "--from", "ca.p12", "--passphrase-file", "passphrase"], target);
        Assert.Equal(3, twice.ExitCode);
        Assert.Contains("has a private CA already", twice.Error, StringComparison.Ordinal);

        await using (var host = new ProvisioningHostFactory(target))
        {
            using var client = host.Device();
            Assert.Equal(root, await client.GetStringAsync("/api/v1/ca/root.pem"));
            await RegisterAndVerifyAsync(host, root);
            var csr = await (await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.7.7") })).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("approved", csr.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task A_root_and_intermediate_made_with_openssl_import_and_issue_device_certificates()
    {
        await ProcessRunner.OpenSslAsync(Work, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "own-root.key", "-out", "own-root.pem",
            "-subj", "/CN=Example Corp Device Root", "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        await ProcessRunner.OpenSslAsync(Work, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "own-issuer.key", "-out", "own-issuer.csr", "-subj", "/CN=Example Corp Device Issuing CA");
        await File.WriteAllTextAsync(Path.Combine(Work, "ext.cnf"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n");
        await ProcessRunner.OpenSslAsync(Work, "x509", "-req", "-in", "own-issuer.csr", "-CA", "own-root.pem", "-CAkey", "own-root.key", "-CAcreateserial", "-days", "1825", "-extfile", "ext.cnf", "-out", "own-issuer.pem");
        await ProcessRunner.OpenSslAsync(Work, "pkcs12", "-export", "-inkey", "own-issuer.key", "-in", "own-issuer.pem", "-certfile", "own-root.pem", "-passout", "file:passphrase", "-out", "own.p12");

        var data = Data("own");
        var import = await Host(["ca", "import", "--from", "own.p12", "--passphrase-file", "passphrase"], data);
        Assert.True(import.ExitCode == 0, import.Output + import.Error);

        await using var host = new ProvisioningHostFactory(data);
        using var client = host.Device();
        var root = await client.GetStringAsync("/api/v1/ca/root.pem");
        Assert.Contains("Example Corp Device Root", await PemSubjectAsync(root), StringComparison.Ordinal);
        await RegisterAndVerifyAsync(host, await File.ReadAllTextAsync(Path.Combine(Work, "own-root.pem")));

        // The root key stayed with its owner: a CSR CA cannot be made, and the CSR service says so rather than failing.
        var csr = await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.7.8") });
        Assert.NotEqual(HttpStatusCode.InternalServerError, csr.StatusCode);
    }

    [Fact]
    public async Task A_file_whose_intermediate_is_not_issued_by_its_root_is_refused_and_nothing_is_stored()
    {
        await ProcessRunner.OpenSslAsync(Work, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-subj", "/CN=Root A", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");
        await ProcessRunner.OpenSslAsync(Work, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "b.key", "-out", "b.pem", "-subj", "/CN=Root B", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");
        await ProcessRunner.OpenSslAsync(Work, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "i.key", "-out", "i.csr", "-subj", "/CN=Issuer of B");
        await File.WriteAllTextAsync(Path.Combine(Work, "ext.cnf"), "basicConstraints=critical,CA:TRUE,pathlen:0\n");
        await ProcessRunner.OpenSslAsync(Work, "x509", "-req", "-in", "i.csr", "-CA", "b.pem", "-CAkey", "b.key", "-CAcreateserial", "-days", "30", "-extfile", "ext.cnf", "-out", "i.pem");
        await ProcessRunner.OpenSslAsync(Work, "pkcs12", "-export", "-inkey", "i.key", "-in", "i.pem", "-certfile", "a.pem", "-passout", "file:passphrase", "-out", "mixed.p12");

        var data = Data("mixed");
        var import = await Host(["ca", "import", "--from", "mixed.p12", "--passphrase-file", "passphrase"], data);
        Assert.Equal(3, import.ExitCode);
        Assert.Contains("not issued by its root", import.Error, StringComparison.Ordinal);

        // Nothing stored: the deployment makes its own CA at first start.
        await using var host = new ProvisioningHostFactory(data);
        Assert.Contains("Sndctl", await PemSubjectAsync(await host.Device().GetStringAsync("/api/v1/ca/root.pem")), StringComparison.Ordinal);
    }

    private async Task RegisterAndVerifyAsync(ProvisioningHostFactory host, string root)
    {
        using var client = host.Device();
        var device = await host.CreateDeviceAsync();
        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var chain = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificate").GetString()!;
        var name = Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(Path.Combine(Work, name + ".chain.pem"), chain);
        await File.WriteAllTextAsync(Path.Combine(Work, name + ".root.pem"), root);
        var verify = await ProcessRunner.RunAsync("openssl", ["verify", "-CAfile", name + ".root.pem", "-untrusted", name + ".chain.pem", name + ".chain.pem"], Work);
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
    }

    private async Task<string> PemSubjectAsync(string pem)
    {
        var file = Guid.NewGuid().ToString("N") + ".pem";
        await File.WriteAllTextAsync(Path.Combine(Work, file), pem);
        return await ProcessRunner.OpenSslAsync(Work, "x509", "-in", file, "-noout", "-subject");
    }

    private string Data(string name) => Path.Combine(Work, name);

    private Task<(int ExitCode, string Output, string Error)> Host(string[] arguments, string data)
        => Host(arguments, new Dictionary<string, string?> { ["Provisioning__DataDirectory"] = data });
}
