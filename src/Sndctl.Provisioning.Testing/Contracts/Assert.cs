using System.Collections;
using System.Runtime.CompilerServices;

namespace Sndctl.Provisioning.Testing.Contracts;

/// <summary>
/// The few assertions the contracts make, with xUnit's names and meaning, so the suites run under any test
/// framework (and none): a failure is a <see cref="ContractViolationException"/> naming the expression.
/// </summary>
internal static class Assert
{
    public static void Equal<T>(T expected, T actual, [CallerArgumentExpression(nameof(actual))] string? what = null)
    {
        if (!Same(expected, actual))
        {
            throw Violation($"{what}: expected {Show(expected)}, got {Show(actual)}");
        }
    }

    public static void Equal<T>(IEnumerable<T>? expected, IEnumerable<T>? actual, [CallerArgumentExpression(nameof(actual))] string? what = null)
        => Equal<object?>(expected, actual, what);

    public static void True(bool condition, [CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        if (!condition)
        {
            throw Violation($"{what}: expected true");
        }
    }

    public static void False(bool condition, [CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        if (condition)
        {
            throw Violation($"{what}: expected false");
        }
    }

    public static void Null(object? value, [CallerArgumentExpression(nameof(value))] string? what = null)
    {
        if (value is not null)
        {
            throw Violation($"{what}: expected nothing, got {Show(value)}");
        }
    }

    public static void NotNull([System.Diagnostics.CodeAnalysis.NotNull] object? value, [CallerArgumentExpression(nameof(value))] string? what = null)
    {
        if (value is null)
        {
            throw Violation($"{what}: expected a value, got nothing");
        }
    }

    public static void Empty(IEnumerable collection, [CallerArgumentExpression(nameof(collection))] string? what = null)
    {
        if (collection.Cast<object?>().Any())
        {
            throw Violation($"{what}: expected none, got {Show(collection)}");
        }
    }

    public static T Single<T>(IEnumerable<T> collection, [CallerArgumentExpression(nameof(collection))] string? what = null)
    {
        var items = collection.Take(2).ToList();
        return items.Count == 1 ? items[0] : throw Violation($"{what}: expected exactly one, got {Show(collection)}");
    }

    public static async Task<TException> ThrowsAsync<TException>(Func<Task> action, [CallerArgumentExpression(nameof(action))] string? what = null)
        where TException : Exception
    {
        try
        {
            await action();
        }
        catch (TException expected) when (expected.GetType() == typeof(TException))
        {
            return expected;
        }
        catch (Exception other)
        {
            throw Violation($"{what}: expected {typeof(TException).Name}, got {other.GetType().Name}: {other.Message}");
        }

        throw Violation($"{what}: expected {typeof(TException).Name}, nothing was thrown");
    }

    private static ContractViolationException Violation(string message) => new(message);

    private static bool Same(object? expected, object? actual)
        => expected is IEnumerable e && actual is IEnumerable a && expected is not string && actual is not string
            ? e.Cast<object?>().Count() == a.Cast<object?>().Count() && e.Cast<object?>().Zip(a.Cast<object?>()).All(p => Same(p.First, p.Second))
            : Equals(expected, actual);

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Take(10).Select(Show)) + "]",
        _ => value.ToString() ?? "",
    };
}
