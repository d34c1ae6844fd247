using System.Reflection;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Vigil.Rpc.Server;

/// <summary>The four kinds of gRPC call.</summary>
public enum MethodKind
{
    Unary,
    ServerStreaming,
    ClientStreaming,
    DuplexStreaming,
}

/// <summary>Runs one method: reads its requests, calls the handler, writes its responses.</summary>
internal abstract class MethodHandler
{
    protected MethodHandler(MethodDescriptor descriptor)
    {
        Descriptor = descriptor;
        Path = $"/{descriptor.Service.FullName}/{descriptor.Name}";
    }

    public MethodDescriptor Descriptor { get; }
    public string Path { get; }

    public static MethodKind KindOf(MethodDescriptor m) => (m.IsClientStreaming, m.IsServerStreaming) switch
    {
        (false, false) => MethodKind.Unary,
        (false, true) => MethodKind.ServerStreaming,
        (true, false) => MethodKind.ClientStreaming,
        (true, true) => MethodKind.DuplexStreaming,
    };

    public abstract Task RunAsync(CallState call, ServerCallContext context);

    protected static async IAsyncEnumerable<TRequest> ReadAllAsync<TRequest>(CallState call, MessageParser<TRequest> parser,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(call.CancellationToken, cancellationToken);
        while (await call.ReadMessageAsync(parser, linked.Token) is { } message)
        {
            yield return message;
        }
    }

    protected sealed class StreamWriter<T>(CallState call) : IServerStreamWriter<T> where T : IMessage
    {
        public Task WriteAsync(T message, CancellationToken cancellationToken = default) =>
            call.WriteMessageAsync(message, cancellationToken.CanBeCanceled ? cancellationToken : call.CancellationToken);
    }
}

internal sealed class UnaryHandler<TRequest, TResponse>(MethodDescriptor descriptor, MessageParser<TRequest> parser,
    Func<TRequest, ServerCallContext, Task<TResponse>> handler) : MethodHandler(descriptor)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task RunAsync(CallState call, ServerCallContext context)
    {
        var request = await call.ReadSingleMessageAsync(parser);
        var response = await handler(request, context) ?? throw new RpcException(StatusCode.Internal, "Handler returned no response.");
        await call.WriteMessageAsync(response, call.TransportToken, flush: false);
    }
}

internal sealed class ServerStreamingHandler<TRequest, TResponse>(MethodDescriptor descriptor, MessageParser<TRequest> parser,
    Func<TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler) : MethodHandler(descriptor)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task RunAsync(CallState call, ServerCallContext context)
    {
        var request = await call.ReadSingleMessageAsync(parser);
        await handler(request, new StreamWriter<TResponse>(call), context);
    }
}

internal sealed class ClientStreamingHandler<TRequest, TResponse>(MethodDescriptor descriptor, MessageParser<TRequest> parser,
    Func<IAsyncEnumerable<TRequest>, ServerCallContext, Task<TResponse>> handler) : MethodHandler(descriptor)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task RunAsync(CallState call, ServerCallContext context)
    {
        var response = await handler(ReadAllAsync(call, parser), context) ?? throw new RpcException(StatusCode.Internal, "Handler returned no response.");
        await call.WriteMessageAsync(response, call.TransportToken, flush: false);
    }
}

internal sealed class DuplexStreamingHandler<TRequest, TResponse>(MethodDescriptor descriptor, MessageParser<TRequest> parser,
    Func<IAsyncEnumerable<TRequest>, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler) : MethodHandler(descriptor)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override Task RunAsync(CallState call, ServerCallContext context) =>
        handler(ReadAllAsync(call, parser), new StreamWriter<TResponse>(call), context);
}

/// <summary>
/// Binds a service's methods, as the protobuf <see cref="ServiceDescriptor"/> lists them, to the
/// public methods of the same names on an implementation object, so paths and message types come
/// from the .proto and cannot drift. Each method must have the signature of its kind:
/// <code>
/// unary:            Task&lt;Resp&gt; Name(Req request, ServerCallContext context)
/// server streaming: Task Name(Req request, IServerStreamWriter&lt;Resp&gt; responses, ServerCallContext context)
/// client streaming: Task&lt;Resp&gt; Name(IAsyncEnumerable&lt;Req&gt; requests, ServerCallContext context)
/// bidi streaming:   Task Name(IAsyncEnumerable&lt;Req&gt; requests, IServerStreamWriter&lt;Resp&gt; responses, ServerCallContext context)
/// </code>
/// A missing method or a wrong signature fails at startup, naming it.
/// </summary>
public static class ServiceBinder
{
    internal static IReadOnlyList<MethodHandler> Bind(ServiceDescriptor service, object implementation)
    {
        var type = implementation.GetType();
        var handlers = new List<MethodHandler>();
        foreach (var method in service.Methods)
        {
            var requestType = method.InputType.ClrType ?? throw new InvalidOperationException($"{method.FullName}: request type has no generated C# class");
            var responseType = method.OutputType.ClrType ?? throw new InvalidOperationException($"{method.FullName}: response type has no generated C# class");
            var kind = MethodHandler.KindOf(method);
            var (parameters, returns, handlerType) = kind switch
            {
                MethodKind.Unary => (new[] { requestType, typeof(ServerCallContext) }, typeof(Task<>).MakeGenericType(responseType), typeof(UnaryHandler<,>)),
                MethodKind.ServerStreaming => ([requestType, typeof(IServerStreamWriter<>).MakeGenericType(responseType), typeof(ServerCallContext)], typeof(Task), typeof(ServerStreamingHandler<,>)),
                MethodKind.ClientStreaming => ([typeof(IAsyncEnumerable<>).MakeGenericType(requestType), typeof(ServerCallContext)], typeof(Task<>).MakeGenericType(responseType), typeof(ClientStreamingHandler<,>)),
                _ => ([typeof(IAsyncEnumerable<>).MakeGenericType(requestType), typeof(IServerStreamWriter<>).MakeGenericType(responseType), typeof(ServerCallContext)], typeof(Task), typeof(DuplexStreamingHandler<,>)),
            };
            var mi = type.GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, parameters);
            if (mi is null || mi.ReturnType != returns)
            {
                var sig = $"{Pretty(returns)} {method.Name}({string.Join(", ", parameters.Select(Pretty))})";
                throw new InvalidOperationException($"{type.Name} does not implement {method.FullName} ({kind}): expected a public method {sig}");
            }
            var delegateType = Expression.GetDelegateTypeFor(parameters, returns);
            var fn = mi.CreateDelegate(delegateType, implementation);
            var parser = requestType.GetProperty("Parser", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            var closed = handlerType.MakeGenericType(requestType, responseType);
            handlers.Add((MethodHandler)Activator.CreateInstance(closed, method, parser, fn)!);
        }
        return handlers;
    }

    private static string Pretty(Type t) => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(Pretty))}>"
        : t.Name;

    private static class Expression
    {
        public static Type GetDelegateTypeFor(Type[] parameters, Type returns) =>
            System.Linq.Expressions.Expression.GetFuncType([.. parameters, returns]);
    }
}
