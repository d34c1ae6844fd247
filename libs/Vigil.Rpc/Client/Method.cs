using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Vigil.Rpc.Server;

namespace Vigil.Rpc.Client;

/// <summary>A method as the client calls it, made from the protobuf descriptor so the path and types match the .proto.</summary>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private Method(MethodDescriptor descriptor, MessageParser<TResponse> parser)
    {
        Descriptor = descriptor;
        Path = $"/{descriptor.Service.FullName}/{descriptor.Name}";
        // Parsed once: building a Uri per call costs about a microsecond.
        RequestUri = new Uri("http://localhost" + Path);
        Kind = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (false, false) => MethodKind.Unary,
            (false, true) => MethodKind.ServerStreaming,
            (true, false) => MethodKind.ClientStreaming,
            (true, true) => MethodKind.DuplexStreaming,
        };
        ResponseParser = parser;
    }

    public MethodDescriptor Descriptor { get; }
    public string Path { get; }
    internal Uri RequestUri { get; }
    public MethodKind Kind { get; }
    public MessageParser<TResponse> ResponseParser { get; }

    public static Method<TRequest, TResponse> Create(MethodDescriptor descriptor)
    {
        if (descriptor.InputType.ClrType != typeof(TRequest) || descriptor.OutputType.ClrType != typeof(TResponse))
        {
            throw new ArgumentException($"{descriptor.FullName} takes {descriptor.InputType.FullName} and returns {descriptor.OutputType.FullName}, not {typeof(TRequest).Name} -> {typeof(TResponse).Name}");
        }
        var parser = (MessageParser<TResponse>)typeof(TResponse).GetProperty("Parser", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        return new Method<TRequest, TResponse>(descriptor, parser);
    }
}

/// <summary>Per-call settings.</summary>
public readonly record struct CallOptions
{
    public Metadata? Headers { get; init; }
    /// <summary>UTC deadline; the server is told (grpc-timeout) and the client gives up at it with DEADLINE_EXCEEDED.</summary>
    public DateTime? Deadline { get; init; }
    public CancellationToken CancellationToken { get; init; }
    /// <summary>Send request messages gzip-compressed.</summary>
    public bool CompressRequests { get; init; }

    public static CallOptions WithTimeout(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new() { Deadline = DateTime.UtcNow + timeout, CancellationToken = cancellationToken };
}
