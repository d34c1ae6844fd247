using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Reflection.V1;

namespace Vigil.Rpc.Server.Reflection;

/// <summary>
/// grpc.reflection.v1 ServerReflection over the server's bound services: list services, the file
/// of a given name or defining a given symbol, each with its transitive dependencies, so clients
/// need no local .proto files.
/// </summary>
internal sealed class ReflectionService
{
    private readonly Func<IReadOnlyList<ServiceDescriptor>> _services;
    private Index? _index;

    public ReflectionService(Func<IReadOnlyList<ServiceDescriptor>> services) => _services = services;

    private sealed record Index(IReadOnlyList<string> ServiceNames, Dictionary<string, FileDescriptor> Files, Dictionary<string, FileDescriptor> Symbols, HashSet<string> MessageTypes);

    private Index GetIndex()
    {
        if (_index is { } existing) return existing;
        var files = new Dictionary<string, FileDescriptor>(StringComparer.Ordinal);
        var symbols = new Dictionary<string, FileDescriptor>(StringComparer.Ordinal);
        var messages = new HashSet<string>(StringComparer.Ordinal);
        void AddFile(FileDescriptor f)
        {
            if (!files.TryAdd(f.Name, f)) return;
            foreach (var d in f.Dependencies) AddFile(d);
            foreach (var m in f.MessageTypes) AddMessage(m, f);
            foreach (var e in f.EnumTypes) AddEnum(e, f);
            foreach (var s in f.Services)
            {
                symbols[s.FullName] = f;
                foreach (var m in s.Methods) symbols[m.FullName] = f;
            }
        }
        void AddMessage(MessageDescriptor m, FileDescriptor f)
        {
            symbols[m.FullName] = f;
            messages.Add(m.FullName);
            foreach (var n in m.NestedTypes) AddMessage(n, f);
            foreach (var e in m.EnumTypes) AddEnum(e, f);
            foreach (var field in m.Fields.InDeclarationOrder()) symbols[field.FullName] = f;
        }
        void AddEnum(EnumDescriptor e, FileDescriptor f)
        {
            symbols[e.FullName] = f;
            foreach (var v in e.Values) symbols[v.FullName] = f;
        }
        var services = _services();
        foreach (var s in services) AddFile(s.File);
        _index = new Index(services.Select(s => s.FullName).ToList(), files, symbols, messages);
        return _index;
    }

    public async Task ServerReflectionInfo(IAsyncEnumerable<ServerReflectionRequest> requests,
        IServerStreamWriter<ServerReflectionResponse> responses, ServerCallContext context)
    {
        await foreach (var request in requests.WithCancellation(context.CancellationToken))
        {
            await responses.WriteAsync(Answer(request));
        }
    }

    public ServerReflectionResponse Answer(ServerReflectionRequest request)
    {
        var index = GetIndex();
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                var list = new ListServiceResponse();
                foreach (var name in index.ServiceNames) list.Service.Add(new ServiceResponse { Name = name });
                response.ListServicesResponse = list;
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                response = index.Files.TryGetValue(request.FileByFilename, out var file)
                    ? WithFiles(response, file)
                    : WithError(response, StatusCode.NotFound, $"File not found: {request.FileByFilename}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                response = index.Symbols.TryGetValue(request.FileContainingSymbol, out var owner)
                    ? WithFiles(response, owner)
                    : WithError(response, StatusCode.NotFound, $"Symbol not found: {request.FileContainingSymbol}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                // Vigil's protos (proto3) declare no extensions.
                response = WithError(response, StatusCode.NotFound,
                    $"Extension not found: {request.FileContainingExtension.ContainingType} #{request.FileContainingExtension.ExtensionNumber}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                response = index.MessageTypes.Contains(request.AllExtensionNumbersOfType)
                    ? Set(response, r => r.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType })
                    : WithError(response, StatusCode.NotFound, $"Type not found: {request.AllExtensionNumbersOfType}");
                break;
            default:
                response = WithError(response, StatusCode.InvalidArgument, "the request names no reflection query");
                break;
        }
        return response;
    }

    private static ServerReflectionResponse Set(ServerReflectionResponse r, Action<ServerReflectionResponse> set)
    {
        set(r);
        return r;
    }

    /// <summary>The file first, then every file it depends on, transitively, each once.</summary>
    private static ServerReflectionResponse WithFiles(ServerReflectionResponse response, FileDescriptor file)
    {
        var result = new FileDescriptorResponse();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<FileDescriptor>();
        queue.Enqueue(file);
        while (queue.Count > 0)
        {
            var f = queue.Dequeue();
            if (!seen.Add(f.Name)) continue;
            result.FileDescriptorProto.Add(f.SerializedData);
            foreach (var d in f.Dependencies) queue.Enqueue(d);
        }
        response.FileDescriptorResponse = result;
        return response;
    }

    private static ServerReflectionResponse WithError(ServerReflectionResponse response, StatusCode code, string message)
    {
        response.ErrorResponse = new ErrorResponse { ErrorCode = (int)code, ErrorMessage = message };
        return response;
    }
}

/// <summary>
/// grpc.reflection.v1alpha: the same messages under the older package name. The two are identical
/// on the wire, so requests and answers are converted by re-parsing their bytes.
/// </summary>
internal sealed class ReflectionServiceV1Alpha(ReflectionService inner)
{
    public async Task ServerReflectionInfo(IAsyncEnumerable<Grpc.Reflection.V1Alpha.ServerReflectionRequest> requests,
        IServerStreamWriter<Grpc.Reflection.V1Alpha.ServerReflectionResponse> responses, ServerCallContext context)
    {
        await foreach (var request in requests.WithCancellation(context.CancellationToken))
        {
            var answer = inner.Answer(ServerReflectionRequest.Parser.ParseFrom(request.ToByteString()));
            await responses.WriteAsync(Grpc.Reflection.V1Alpha.ServerReflectionResponse.Parser.ParseFrom(answer.ToByteString()));
        }
    }
}
