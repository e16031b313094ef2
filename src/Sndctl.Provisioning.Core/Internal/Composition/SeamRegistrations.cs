using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// What each seam's implementation registered (<see cref="DeviceProvisioningBuilder.UseSeam"/>), kept in the service
/// collection itself so every builder over it sees the same record. A later implementation of the seam removes
/// what the earlier one owned: every descriptor it added that mentions a type that is not the framework's
/// (its services, hosted services, options configure and validation steps, <c>ValidateOnStart</c>, health-check
/// registrations). Descriptors that mention framework types only (<see cref="TimeProvider"/>, the HTTP client
/// factory, metrics) are shared infrastructure another package may rely on, and stay.
/// </summary>
internal sealed class SeamRegistrations
{
    private readonly Dictionary<string, List<ServiceDescriptor>> _owned = new(StringComparer.Ordinal);
    private string? _registering;

    public static SeamRegistrations Of(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(SeamRegistrations) && !d.IsKeyedService)?.ImplementationInstance is SeamRegistrations existing)
        {
            return existing;
        }

        var created = new SeamRegistrations();
        services.AddSingleton(created);
        return created;
    }

    public void Use(IServiceCollection services, string seam, Action<IServiceCollection> register)
    {
        if (_registering == seam)
        {
            // Nested (a package's Use* calling the builder's UseIssuer inside its own registration): one registration.
            register(services);
            return;
        }

        if (_owned.Remove(seam, out var previous))
        {
            var stale = previous.ToHashSet(ReferenceEqualityComparer.Instance);
            for (var i = services.Count - 1; i >= 0; i--)
            {
                if (stale.Contains(services[i]))
                {
                    services.RemoveAt(i);
                }
            }
        }

        var before = services.ToHashSet(ReferenceEqualityComparer.Instance);
        var outer = _registering;
        _registering = seam;
        try
        {
            register(services);
        }
        finally
        {
            _registering = outer;
        }

        _owned[seam] = [.. services.Where(d => !before.Contains(d) && Owned(d))];
    }

    /// <summary>Whether a descriptor mentions a type that is not the framework's (so it belongs to the implementation).</summary>
    internal static bool Owned(ServiceDescriptor descriptor)
    {
        var types = new List<Type> { descriptor.ServiceType };
        object? instance;
        Type? implementation;
        Delegate? factory;
        if (descriptor.IsKeyedService)
        {
            (instance, implementation, factory) = (descriptor.KeyedImplementationInstance, descriptor.KeyedImplementationType, descriptor.KeyedImplementationFactory);
        }
        else
        {
            (instance, implementation, factory) = (descriptor.ImplementationInstance, descriptor.ImplementationType, descriptor.ImplementationFactory);
        }

        if (implementation is not null)
        {
            types.Add(implementation);
        }

        if (factory is not null)
        {
            AddDelegate(types, factory);
        }

        if (instance is not null)
        {
            types.Add(instance.GetType());

            // Options steps keep their delegate (ConfigureNamedOptions<T>.Action and the like): whose lambda is it?
            foreach (var property in instance.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (typeof(Delegate).IsAssignableFrom(property.PropertyType) && property.GetIndexParameters().Length == 0 && property.GetValue(instance) is Delegate step)
                {
                    AddDelegate(types, step);
                }
            }
        }

        return types.Any(MentionsOwnType);
    }

    private static void AddDelegate(List<Type> types, Delegate value)
    {
        if (value.Method.DeclaringType is { } declaring)
        {
            types.Add(declaring);
        }

        types.AddRange(value.Method.GetGenericArguments());
        if (value.Target is { } target)
        {
            types.Add(target.GetType());
        }
    }

    private static bool MentionsOwnType(Type type)
    {
        if (type.IsGenericParameter)
        {
            return false;
        }

        if (type.HasElementType)
        {
            return MentionsOwnType(type.GetElementType()!);
        }

        if (!IsFramework(type.Assembly))
        {
            return true;
        }

        return (type.IsGenericType && type.GetGenericArguments().Any(MentionsOwnType))
            || (type.DeclaringType is { } outer && outer != type && MentionsOwnType(outer));
    }

    private static bool IsFramework(Assembly assembly)
        => assembly.GetName().Name is { } name
            && (name.StartsWith("System", StringComparison.Ordinal) || name.StartsWith("Microsoft.", StringComparison.Ordinal) || name is "netstandard" or "mscorlib");
}
