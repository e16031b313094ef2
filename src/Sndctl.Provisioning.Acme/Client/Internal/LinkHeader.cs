namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>Reads RFC 8288 <c>Link</c> headers: <c>&lt;url&gt;;rel="alternate", &lt;url&gt;;rel="up"</c>.</summary>
internal static class LinkHeader
{
    public static IEnumerable<(Uri Target, string Relation)> Parse(IEnumerable<string> headerValues)
    {
        foreach (var value in headerValues)
        {
            var position = 0;
            while (position < value.Length)
            {
                var open = value.IndexOf('<', position);
                if (open < 0)
                {
                    break;
                }

                var close = value.IndexOf('>', open + 1);
                if (close < 0)
                {
                    break;
                }

                var target = value[(open + 1)..close];
                var next = value.IndexOf('<', close + 1);
                var parameters = next < 0 ? value[(close + 1)..] : value[(close + 1)..next];
                position = next < 0 ? value.Length : next;
                foreach (var parameter in parameters.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var equals = parameter.IndexOf('=', StringComparison.Ordinal);
                    if (equals > 0 && parameter[..equals].Trim().Equals("rel", StringComparison.OrdinalIgnoreCase)
                        && Uri.TryCreate(target, UriKind.RelativeOrAbsolute, out var uri))
                    {
                        foreach (var relation in parameter[(equals + 1)..].Trim().Trim(',').Trim('"').Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        {
                            yield return (uri, relation);
                        }
                    }
                }
            }
        }
    }
}
