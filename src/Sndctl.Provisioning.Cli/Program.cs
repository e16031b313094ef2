using System.CommandLine;
using Sndctl.Provisioning.Cli;

var server = new Option<string?>("--server")
{
    Description = $"The CA's base URL. Default: ${CaClient.ServerVariable}, then {CaClient.DefaultServer}.",
    Recursive = true,
};
var fingerprint = new Option<string?>("--fingerprint")
{
    Description = "The SHA-256 fingerprint of the CA's root (hex, colons optional): the root the server hands out, and every certificate, must match it.",
    Recursive = true,
};
var rootFile = new Option<string?>("--root")
{
    Description = "The CA's root certificate (PEM) to trust: for the certificates issued, and for the server's HTTPS.",
    Recursive = true,
};
var json = new Option<bool>("--json") { Description = "Print one JSON object with the outcome on standard output (messages go to standard error).", Recursive = true };

var root = new RootCommand("""
    sndctl-ca: a TLS certificate for a private IP address from the project's private CA, in one command.

    Public CAs cannot certify private addresses, and self-signed certificates teach users to click
    through warnings. sndctl-ca makes a key on this machine (it never leaves it), sends a CSR for the
    address, waits for the CA's answer and writes the certificate and key, ready for nginx:

      sndctl-ca root --fingerprint 3F:A1:...                                   # trust the CA, checked
      sndctl-ca webhooks --out=server.crt --keyout=server.key 192.168.1.10   # a local webhook receiver
      sndctl-ca private 10.0.0.5                                             # a private server
      sndctl-ca renew --cert server.crt --key server.key --before 30d --exec "systemctl reload nginx"

      ssl_certificate     /path/to/server.crt;
      ssl_certificate_key /path/to/server.key;

    Only 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 are issued; certificates are valid for one
    year; the CA accepts one request per minute from an address. Existing files are replaced only
    with --force. Durations: 90s, 5m, 2h, 30d.

    Exit codes: 0 issued, 1 bad input, 2 denied, 3 rate limited, 4 timed out, 5 CA unreachable or failing.
    """)
{
    server,
    fingerprint,
    rootFile,
    json,
    IssueCommand("webhooks", "webhook", "Get a certificate for a local webhook receiver at <ip>."),
    IssueCommand("private", "private_server", "Get a certificate for a private server at <ip>."),
    RenewCommand(),
    StatusCommand(),
    RootCertificateCommand(),
};

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

GlobalOptions Globals(ParseResult result) => new(result.GetValue(server), result.GetValue(rootFile), result.GetValue(fingerprint), result.GetValue(json));

Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue)
    => new(name) { Description = description, DefaultValueFactory = _ => defaultValue, CustomParser = Durations.Parse };

Option<bool> Force() => new("--force") { Description = "Replace files that exist (without it: exit 1, files untouched)." };

Command IssueCommand(string name, string type, string description)
{
    var ip = new Argument<string>("ip") { Description = "The private IPv4 address the certificate is for, e.g. 192.168.1.10." };
    var output = new Option<string>("--out") { Description = "Where to write the certificate (then its intermediate), PEM, mode 0600.", DefaultValueFactory = _ => "server.crt" };
    var keyOutput = new Option<string>("--keyout") { Description = "Where to write the private key, PEM (PKCS#8), mode 0400: written as soon as the CA has the request.", DefaultValueFactory = _ => "server.key" };
    var timeout = Duration("--timeout", "How long to wait for an administrator's approval, e.g. 5m.", TimeSpan.FromMinutes(5));
    var force = Force();
    var command = new Command(name, description) { ip, output, keyOutput, timeout, force };
    command.SetAction((result, cancellationToken) => CaClient.RunAsync(
        Globals(result),
        client => client.IssueAsync(type, result.GetValue(ip)!, result.GetValue(output)!, result.GetValue(keyOutput)!, result.GetValue(timeout), result.GetValue(force), cancellationToken)));
    return command;
}

Command RenewCommand()
{
    var certificate = new Option<string>("--cert") { Description = "The certificate to renew (from webhooks or private).", Required = true };
    var key = new Option<string>("--key") { Description = "Its key.", Required = true };
    var before = Duration("--before", "Renew when the certificate ends within this, e.g. 30d.", TimeSpan.FromDays(30));
    var exec = new Option<string?>("--exec") { Description = "A shell command to run after a renewal (SNDCTL_CA_CERT and SNDCTL_CA_KEY name the files), e.g. \"systemctl reload nginx\"." };
    var timeout = Duration("--timeout", "How long to wait for an administrator's approval.", TimeSpan.FromMinutes(5));
    var command = new Command("renew", "Renew a certificate for the same address and kind when it ends within --before (for cron or a systemd timer: nothing happens before that); the new key and certificate replace the old ones together.") { certificate, key, before, exec, timeout };
    command.SetAction((result, cancellationToken) => CaClient.RunAsync(
        Globals(result),
        client => client.RenewAsync(result.GetValue(certificate)!, result.GetValue(key)!, result.GetValue(before), result.GetValue(exec), result.GetValue(timeout), cancellationToken)));
    return command;
}

Command StatusCommand()
{
    var id = new Argument<string>("request_id") { Description = "The request ID printed when the CSR was submitted." };
    var output = new Option<string?>("--out") { Description = "Also write the certificate here once approved (mode 0600)." };
    var force = Force();
    var command = new Command("status", "Show a request's status; with --out, save its certificate.") { id, output, force };
    command.SetAction((result, cancellationToken) => CaClient.RunAsync(
        Globals(result),
        client => client.StatusAsync(result.GetValue(id)!, result.GetValue(output), result.GetValue(force), cancellationToken)));
    return command;
}

Command RootCertificateCommand()
{
    var output = new Option<string>("--out") { Description = "Where to write the root certificate (PEM); '-' for standard output.", DefaultValueFactory = _ => "ca.crt" };
    var force = Force();
    var command = new Command("root", "Download the CA's root certificate, to trust it on clients; its fingerprint is printed to compare, or checked against --fingerprint.") { output, force };
    command.SetAction((result, cancellationToken) => CaClient.RunAsync(
        Globals(result),
        client => client.RootAsync(result.GetValue(output)!, result.GetValue(force), cancellationToken)));
    return command;
}
