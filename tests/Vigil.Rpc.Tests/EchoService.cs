using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests;

/// <summary>
/// vigil.testing.v1.EchoService as the conformance tests need it (the Python server in
/// Conformance/grpc_peer.py implements the same contract).
/// </summary>
public sealed class TestEchoService : EchoService.EchoServiceBase
{
    private long _cancelled;
    private long _deadlineExceeded;
    private long _completed;
    private long _started;

    /// <summary>Thrown by Echo when the request's message is "throw" (the exception mapping tests use it).</summary>
    public Exception? ToThrow { get; set; }

    public override async Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _started);
        await EchoMetadataAsync(context);
        if (request.Message == "throw" && ToThrow is { } toThrow) throw toThrow;
        if (request.Delay is { } delay && delay.ToTimeSpan() > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay.ToTimeSpan(), context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                if (context.Deadline <= DateTime.UtcNow) Interlocked.Increment(ref _deadlineExceeded);
                else Interlocked.Increment(ref _cancelled);
                throw;
            }
        }
        if (request.FailCode != 0) throw new RpcException(new Status((StatusCode)request.FailCode, request.FailMessage));
        Interlocked.Increment(ref _completed);
        var http = context.GetHttpContext();
        return new EchoResponse
        {
            Message = request.Message,
            Payload = request.ResponseSize > 0 ? ByteString.CopyFrom(new byte[request.ResponseSize]) : request.Payload,
            ContentType = http.Request.ContentType ?? "",
            RequestEncoding = http.Request.Headers["grpc-encoding"].ToString() is { Length: > 0 } e ? e : "identity",
            TimeRemaining = context.Deadline == DateTime.MaxValue ? null : Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(context.Deadline - DateTime.UtcNow),
        };
    }

    public override async Task ServerStream(ServerStreamRequest request, IServerStreamWriter<ServerStreamResponse> responses, ServerCallContext context)
    {
        Interlocked.Increment(ref _started);
        await EchoMetadataAsync(context);
        try
        {
            for (var i = 0; i < request.Count; i++)
            {
                if (i > 0 && request.Interval is { } interval) await Task.Delay(interval.ToTimeSpan(), context.CancellationToken);
                await responses.WriteAsync(new ServerStreamResponse { Index = i, Payload = ByteString.CopyFrom(new byte[request.PayloadSize]) });
            }
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelled);
            throw;
        }
        if (request.FailCode != 0) throw new RpcException(new Status((StatusCode)request.FailCode, request.FailMessage));
    }

    public override async Task<ClientStreamResponse> ClientStream(IAsyncStreamReader<ClientStreamRequest> requests, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        var count = 0;
        var joined = new List<string>();
        await foreach (var r in requests.ReadAllAsync(context.CancellationToken))
        {
            count++;
            joined.Add(r.Message);
        }
        return new ClientStreamResponse { Count = count, Joined = string.Join(",", joined) };
    }

    public override async Task Bidi(IAsyncStreamReader<BidiRequest> requests, IServerStreamWriter<BidiResponse> responses, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        var i = 0;
        await foreach (var r in requests.ReadAllAsync(context.CancellationToken))
        {
            await responses.WriteAsync(new BidiResponse { Message = r.Message, Index = i++ });
        }
    }

    public override Task<GetStatsResponse> GetStats(GetStatsRequest request, ServerCallContext context) => Task.FromResult(new GetStatsResponse
    {
        CancelledCalls = Interlocked.Read(ref _cancelled),
        DeadlineExceededCalls = Interlocked.Read(ref _deadlineExceeded),
        CompletedCalls = Interlocked.Read(ref _completed),
        StartedCalls = Interlocked.Read(ref _started),
    });

    /// <summary>x-echo-* request metadata comes back as response headers, x-trailer-* as trailers;
    /// x-response-encoding: gzip asks for a compressed response.</summary>
    private static async Task EchoMetadataAsync(ServerCallContext context)
    {
        var headers = new Metadata();
        foreach (var e in context.RequestHeaders)
        {
            if (e.Key.StartsWith("x-echo-", StringComparison.Ordinal)) Copy(e, headers);
            if (e.Key.StartsWith("x-trailer-", StringComparison.Ordinal)) Copy(e, context.ResponseTrailers);
        }
        // grpc-dotnet's per-call choice of response compression.
        if (context.RequestHeaders.GetValue("x-response-encoding") == "gzip") headers.Add("grpc-internal-encoding-request", "gzip");
        if (headers.Count > 0) await context.WriteResponseHeadersAsync(headers);
    }

    private static void Copy(Metadata.Entry e, Metadata to)
    {
        if (e.IsBinary) to.Add(e.Key, e.ValueBytes);
        else to.Add(e.Key, e.Value);
    }
}
