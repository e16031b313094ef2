using System.Text.RegularExpressions;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// <c>dig</c> (Debian bind9-dnsutils) against a DNS server on loopback: what a resolver sees, read from
/// dig's own output (status, flags, and the records of each section).
/// </summary>
internal static partial class Dig
{
    public static async Task<DigAnswer> QueryAsync(int port, string name, string type, params string[] options)
    {
        string[] arguments = ["+norecurse", "+time=3", "+tries=1", "+noall", "+comments", "+answer", "+authority", "+additional", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "@127.0.0.1", name, type, .. options];
        var (exitCode, output, error) = await ProcessRunner.RunAsync("dig", arguments, timeout: TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"dig {string.Join(' ', arguments)} exited {exitCode}: {output} {error}");
        return DigAnswer.Parse(output);
    }

    [GeneratedRegex(@"status: (\w+)")]
    internal static partial Regex Status();

    [GeneratedRegex(@";; flags: ([^;]*);")]
    internal static partial Regex Flags();
}

/// <summary>One dig answer: the status, the header flags, and each section's records as "name TYPE data" (lower-case name, TTL left out).</summary>
internal sealed record DigAnswer(string Status, IReadOnlySet<string> Flags, IReadOnlyList<string> Answer, IReadOnlyList<string> Authority, IReadOnlyList<string> Additional, string Raw)
{
    public bool Authoritative => Flags.Contains("aa");

    public bool Truncated => Flags.Contains("tc");

    public static DigAnswer Parse(string output)
    {
        var sections = new Dictionary<string, List<string>> { ["ANSWER"] = [], ["AUTHORITY"] = [], ["ADDITIONAL"] = [] };
        List<string>? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith(";; ", StringComparison.Ordinal) && line.EndsWith(" SECTION:", StringComparison.Ordinal))
            {
                sections.TryGetValue(line[3..^" SECTION:".Length], out current);
                continue;
            }

            if (current is null || line.Length == 0 || line.StartsWith(';'))
            {
                continue;
            }

            var fields = line.Split((char[])['\t', ' '], 5, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 5)
            {
                current.Add($"{fields[0].ToLowerInvariant().TrimEnd('.')} {fields[3]} {fields[4].Trim()}");
            }
        }

        var status = Dig.Status().Match(output) is { Success: true } s ? s.Groups[1].Value : "NONE";
        var flags = Dig.Flags().Match(output) is { Success: true } f ? f.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet() : [];
        return new DigAnswer(status, flags, sections["ANSWER"], sections["AUTHORITY"], sections["ADDITIONAL"], output);
    }

    public override string ToString() => Raw;
}
