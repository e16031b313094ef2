using System.Text.Json.Serialization;

namespace Sndctl.Provisioning.Acme;

/// <summary>An RFC 7807 problem document as ACME uses it (RFC 8555 §6.7).</summary>
public sealed record AcmeProblem
{
    /// <summary>The problem type, for example <c>urn:ietf:params:acme:error:rateLimited</c>.</summary>
    public string? Type { get; init; }

    /// <summary>A human-readable explanation.</summary>
    public string? Detail { get; init; }

    /// <summary>The HTTP status.</summary>
    public int? Status { get; init; }

    /// <summary>A URL about this occurrence (Let's Encrypt links rate-limit documentation here).</summary>
    public string? Instance { get; init; }

    /// <summary>Problems with individual identifiers (RFC 8555 §6.7.1).</summary>
    public IReadOnlyList<AcmeProblem>? Subproblems { get; init; }

    /// <summary>The identifier a subproblem is about.</summary>
    public AcmeIdentifier? Identifier { get; init; }

    /// <summary>The type without the <c>urn:ietf:params:acme:error:</c> prefix, e.g. <c>rateLimited</c>.</summary>
    [JsonIgnore]
    public string ShortType => Type is { } type && type.StartsWith(AcmeErrorTypes.Prefix, StringComparison.Ordinal) ? type[AcmeErrorTypes.Prefix.Length..] : Type ?? "unknown";

    /// <inheritdoc />
    public override string ToString()
    {
        var text = $"{ShortType}: {Detail}";
        if (Subproblems is { Count: > 0 } subproblems)
        {
            text += " (" + string.Join("; ", subproblems.Select(s => $"{s.Identifier?.Value}: {s.ShortType}: {s.Detail}")) + ")";
        }

        return text;
    }
}
