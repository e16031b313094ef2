using System.Globalization;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// The Public Suffix List's algorithm (https://publicsuffix.org/list/): the registered domain of a name is
/// its public suffix (the longest matching rule; <c>*</c> wildcards; <c>!</c> exceptions; <c>*</c> by default)
/// plus one label. Let's Encrypt counts its "certificates per registered domain" limit by it. Both the ICANN
/// and the private sections count, as at Let's Encrypt.
/// </summary>
internal sealed class PublicSuffixList
{
    private readonly HashSet<string> _rules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _wildcards = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exceptions = new(StringComparer.Ordinal);

    private PublicSuffixList()
    {
    }

    public int RuleCount => _rules.Count + _wildcards.Count + _exceptions.Count;

    /// <summary>The list shipped in the package, or the file at <paramref name="path"/> when given (a newer copy).</summary>
    public static PublicSuffixList Load(string? path)
    {
        if (path is not null)
        {
            using var file = File.OpenText(path);
            return Parse(file);
        }

        using var stream = typeof(PublicSuffixList).Assembly.GetManifestResourceStream("public_suffix_list.dat")
            ?? throw new InvalidOperationException("The embedded Public Suffix List is missing.");
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }

    public static PublicSuffixList Parse(TextReader reader)
    {
        var list = new PublicSuffixList();
        var idn = new IdnMapping();
        while (reader.ReadLine() is { } line)
        {
            // A rule is the first word of a line; comments start with "//".
            var rule = line.Split((char[])[' ', '\t'], 2)[0].Trim();
            if (rule.Length == 0 || rule.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            if (rule.StartsWith('!'))
            {
                list._exceptions.Add(Ascii(idn, rule[1..]));
            }
            else if (rule.StartsWith("*.", StringComparison.Ordinal))
            {
                list._wildcards.Add(Ascii(idn, rule[2..]));
            }
            else
            {
                list._rules.Add(Ascii(idn, rule));
            }
        }

        return list;
    }

    /// <summary>The registered domain of <paramref name="name"/> (lower case, A-labels), or <see langword="null"/> when the name is itself a public suffix.</summary>
    public string? RegisteredDomain(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var labels = name.TrimEnd('.').ToLowerInvariant().Split('.');
        var suffixLength = 1; // the default rule "*"
        for (var i = 0; i < labels.Length; i++)
        {
            var candidate = string.Join('.', labels[i..]);
            var length = labels.Length - i;
            if (_rules.Contains(candidate))
            {
                suffixLength = Math.Max(suffixLength, length);
            }
            else if (i + 1 < labels.Length && _wildcards.Contains(string.Join('.', labels[(i + 1)..])) && !_exceptions.Contains(candidate))
            {
                suffixLength = Math.Max(suffixLength, length);
            }
        }

        // An exception rule wins over the wildcard it excepts (e.g. !www.ck under *.ck).
        for (var i = 0; i < labels.Length; i++)
        {
            if (_exceptions.Contains(string.Join('.', labels[i..])))
            {
                suffixLength = labels.Length - i - 1;
                break;
            }
        }

        return labels.Length <= suffixLength ? null : string.Join('.', labels[^(suffixLength + 1)..]);
    }

    private static string Ascii(IdnMapping idn, string rule)
    {
        try
        {
            return idn.GetAscii(rule).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return rule.ToLowerInvariant();
        }
    }
}
