using System.Text.RegularExpressions;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>The shipped alert rules: valid for Prometheus, their unit tests pass (promtool), and every runbook link lands.</summary>
public sealed partial class PrometheusRulesTests
{
    private static readonly string s_root = DeploymentManifestTests.RepositoryRoot();
    private static readonly string s_rules = Path.Combine(s_root, "deploy", "prometheus");

    [Fact]
    public async Task Promtool_accepts_the_rules_and_their_unit_tests_pass()
    {
        var check = await ProcessRunner.RunAsync("promtool", ["check", "rules", "alerts.yaml"], s_rules);
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        var test = await ProcessRunner.RunAsync("promtool", ["test", "rules", "alerts.test.yaml"], s_rules, timeout: TimeSpan.FromMinutes(2));
        Assert.True(test.ExitCode == 0, test.Output + test.Error);
        Assert.Contains("SUCCESS", test.Output + test.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_alert_has_a_runbook_section_and_a_unit_test()
    {
        var rules = await File.ReadAllTextAsync(Path.Combine(s_rules, "alerts.yaml"));
        var tests = await File.ReadAllTextAsync(Path.Combine(s_rules, "alerts.test.yaml"));
        var runbooks = await File.ReadAllTextAsync(Path.Combine(s_root, "docs", "runbooks.md"));
        var alerts = Alert().Matches(rules).Select(m => m.Groups[1].Value).ToList();
        Assert.True(alerts.Count >= 11, string.Join(", ", alerts));
        foreach (var alert in alerts)
        {
            Assert.Contains($"runbook_url: https://github.com/sndctl/provisioning/blob/main/docs/runbooks.md#{alert.ToLowerInvariant()}", rules, StringComparison.Ordinal);
            Assert.Contains($"\n## {alert}\n", runbooks, StringComparison.Ordinal);
            Assert.Contains($"alertname: {alert}\n", tests, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"- alert: (\w+)")]
    private static partial Regex Alert();
}
