using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// A query EF compiles once instead of examining its expression tree on every call (the reads every
/// device call makes). EF binds a compiled query to the first model it runs against, and one context type
/// may have several (an application on SQLite and PostgreSQL, the store tests), so it is compiled per model.
/// </summary>
internal sealed class CompiledQuery<TContext, TParam, TResult>(Expression<Func<TContext, TParam, CancellationToken, TResult>> query)
    where TContext : DbContext
{
    private readonly ConditionalWeakTable<IModel, Func<TContext, TParam, CancellationToken, Task<TResult>>> _compiled = [];

    public Task<TResult> ExecuteAsync(TContext context, TParam parameter, CancellationToken cancellationToken)
    {
        var model = context.Model;
        if (!_compiled.TryGetValue(model, out var compiled))
        {
            compiled = _compiled.GetValue(model, _ => EF.CompileAsyncQuery(query));
        }

        return compiled(context, parameter, cancellationToken);
    }
}
