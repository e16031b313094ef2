using System.Reflection;

namespace Sndctl.Provisioning.Testing.Contracts;

/// <summary>Marks a contract check: a private instance method taking a <see cref="CancellationToken"/> and returning a task.</summary>
/// <param name="needs">The services the check exercises (store interfaces); empty when it needs only its subject.</param>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class CheckAttribute(params Type[] needs) : Attribute
{
    public Type[] Needs { get; } = needs;
}

/// <summary>The checks of one contract suite, found once by their <see cref="CheckAttribute"/>, named as their methods.</summary>
internal static class CheckCatalog<TSuite>
{
    private static readonly Dictionary<string, (Type[] Needs, MethodInfo Method)> s_checks = typeof(TSuite)
        .GetMethods(BindingFlags.Instance | BindingFlags.NonPublic)
        .Select(m => (Method: m, Check: m.GetCustomAttribute<CheckAttribute>()))
        .Where(c => c.Check is not null)
        .ToDictionary(c => c.Method.Name, c => (c.Check!.Needs, c.Method), StringComparer.Ordinal);

    public static IReadOnlyList<string> Names { get; } = [.. s_checks.Keys.Order(StringComparer.Ordinal)];

    public static IReadOnlyList<Type> NeedsOf(string check) => Find(check).Needs;

    public static Task RunAsync(TSuite suite, string check, CancellationToken cancellationToken)
        => (Task)Find(check).Method.Invoke(suite, [cancellationToken])!;

    private static (Type[] Needs, MethodInfo Method) Find(string check)
        => s_checks.TryGetValue(check, out var found) ? found : throw new ArgumentException($"'{check}' is not a check of {typeof(TSuite).Name}.", nameof(check));
}
