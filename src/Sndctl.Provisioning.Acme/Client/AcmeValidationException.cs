
namespace Sndctl.Provisioning.Acme;

/// <summary>
/// An authorization or order became <c>invalid</c>: the CA could not validate a challenge or refused
/// to issue. <see cref="Problem"/> carries the CA's reason.
/// </summary>
public sealed class AcmeValidationException(string message, AcmeProblem? problem) : Exception(message)
{
    /// <summary>The CA's reason, if it gave one.</summary>
    public AcmeProblem? Problem { get; } = problem;
}
