namespace Sndctl.Provisioning.Core;

/// <summary>One page of a listing.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int PageNumber, int PageSize);
