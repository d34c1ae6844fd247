using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Vigil.Rpc.Client;

namespace Vigil.Client;

/// <summary>
/// Base of the typed clients: resolves methods by name from the service's protobuf descriptor
/// (once), so a typed method is one line and cannot call a path the .proto does not have.
/// </summary>
public abstract class ServiceClient
{
    private readonly ConcurrentDictionary<string, object> _methods = new(StringComparer.Ordinal);

    protected ServiceClient(RpcChannel channel, ServiceDescriptor service)
    {
        Channel = channel;
        Service = service;
    }

    public RpcChannel Channel { get; }
    public ServiceDescriptor Service { get; }

    protected Method<TRequest, TResponse> GetMethod<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        (Method<TRequest, TResponse>)_methods.GetOrAdd(name, n => Method<TRequest, TResponse>.Create(
            Service.FindMethodByName(n) ?? throw new InvalidOperationException($"{Service.FullName} has no method {n}")));

    protected Task<TResponse> UnaryAsync<TRequest, TResponse>(string name, TRequest request, CallOptions options)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Channel.UnaryAsync(GetMethod<TRequest, TResponse>(name), request, options);

    protected IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(string name, TRequest request, CallOptions options)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Channel.ServerStreamingAsync(GetMethod<TRequest, TResponse>(name), request, options);
}
