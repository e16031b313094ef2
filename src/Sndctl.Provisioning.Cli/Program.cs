using System.CommandLine;
using Sndctl.Provisioning.Cli;

var server = new Option<string?>("--server")
{
    Description = $"The CA's base URL. Default: ${CaClient.ServerVariable}, then {CaClient.DefaultServer}.",
    Recursive = true,
};

var root = new RootCommand("""
    sndctl-ca: a TLS certificate for a private IP address from the project's private CA, in one command.

    Public CAs cannot certify private addresses, and self-signed certificates teach users to click
    through warnings. sndctl-ca makes a key on this machine (it never leaves it), sends a CSR for the
    address, waits for the CA's answer and writes the certificate and key, ready for nginx:

      sndctl-ca webhooks --out=server.crt --keyout=server.key 192.168.1.10   # a local webhook receiver
      sndctl-ca private 10.0.0.5                                             # a private server

      ssl_certificate     /path/to/server.crt;
      ssl_certificate_key /path/to/server.key;

    Only 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 are issued; certificates are valid for one
    year; the CA accepts one request per minute from an address.

    Exit codes: 0 issued, 1 bad input, 2 denied, 3 rate limited, 4 timed out, 5 CA unreachable or failing.
    """)
{
    server,
    IssueCommand("webhooks", "webhook", "Get a certificate for a local webhook receiver at <ip>.", server),
    IssueCommand("private", "private_server", "Get a certificate for a private server at <ip>.", server),
    StatusCommand(server),
    RootCertificateCommand(server),
};

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static Command IssueCommand(string name, string type, string description, Option<string?> server)
{
    var ip = new Argument<string>("ip") { Description = "The private IPv4 address the certificate is for, e.g. 192.168.1.10." };
    var output = new Option<string>("--out") { Description = "Where to write the certificate (then its intermediate), PEM, mode 0600.", DefaultValueFactory = _ => "server.crt" };
    var keyOutput = new Option<string>("--keyout") { Description = "Where to write the private key, PEM (PKCS#8), mode 0400.", DefaultValueFactory = _ => "server.key" };
    var timeout = new Option<TimeSpan>("--timeout") { Description = "How long to wait for an administrator's approval, e.g. 00:05:00.", DefaultValueFactory = _ => TimeSpan.FromMinutes(5) };
    var command = new Command(name, description) { ip, output, keyOutput, timeout };
    command.SetAction((result, cancellationToken) => CaClient.RunAsync(
        result.GetValue(server),
        client => client.IssueAsync(type, result.GetValue(ip)!, result.GetValue(output)!, result.GetValue(keyOutput)!, result.GetValue(timeout), cancellationToken)));
    return command;
}

static Command StatusCommand(Option<string?> server)
{
    var id = new Argument<string>("request_id") { Description = "The request ID printed when the CSR was submitted." };
    var output = new Option<string?>("--out") { Description = "Also write the certificate here once approved (mode 0600)." };
    var command = new Command("status", "Show a request's status; with --out, save its certificate.") { id, output };
    command.SetAction((result, cancellationToken) => CaClient.RunAsync(
        result.GetValue(server),
        client => client.StatusAsync(result.GetValue(id)!, result.GetValue(output), cancellationToken)));
    return command;
}

static Command RootCertificateCommand(Option<string?> server)
{
    var output = new Option<string>("--out") { Description = "Where to write the root certificate (PEM); '-' for standard output.", DefaultValueFactory = _ => "ca.crt" };
    var command = new Command("root", "Download the CA's root certificate, to trust it on clients.") { output };
    command.SetAction((result, cancellationToken) => CaClient.RunAsync(
        result.GetValue(server),
        client => client.RootAsync(result.GetValue(output)!, cancellationToken)));
    return command;
}
