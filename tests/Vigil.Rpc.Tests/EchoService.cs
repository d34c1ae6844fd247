using Google.Protobuf;
using Vigil.Rpc;
using Vigil.Rpc.Server;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests;

/// <summary>
/// vigil.testing.v1.EchoService as the conformance tests and the benchmark need it (the Python
/// server in Conformance/echo_server.py implements the same contract).
/// </summary>
public sealed class EchoService
{
    private long _cancelled;
    private long _deadlineExceeded;
    private long _completed;
    private long _started;

    public async Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _started);
        await EchoMetadataAsync(context);
        if (request.Delay is { } delay && delay.ToTimeSpan() > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay.ToTimeSpan(), context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                if (context.DeadlineExceeded) Interlocked.Increment(ref _deadlineExceeded);
                else Interlocked.Increment(ref _cancelled);
                throw;
            }
        }
        if (request.FailCode != 0) throw new RpcException((StatusCode)request.FailCode, request.FailMessage);
        Interlocked.Increment(ref _completed);
        return new EchoResponse
        {
            Message = request.Message,
            Payload = request.ResponseSize > 0 ? ByteString.CopyFrom(new byte[request.ResponseSize]) : request.Payload,
            ContentType = context.ContentType,
            RequestEncoding = context.RequestEncoding,
            TimeRemaining = context.Deadline == DateTime.MaxValue ? null : Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(context.Deadline - DateTime.UtcNow),
        };
    }

    public async Task ServerStream(ServerStreamRequest request, IServerStreamWriter<ServerStreamResponse> responses, ServerCallContext context)
    {
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
        if (request.FailCode != 0) throw new RpcException((StatusCode)request.FailCode, request.FailMessage);
    }

    public async Task<ClientStreamResponse> ClientStream(IAsyncEnumerable<ClientStreamRequest> requests, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        var count = 0;
        var joined = new List<string>();
        await foreach (var r in requests)
        {
            count++;
            joined.Add(r.Message);
        }
        return new ClientStreamResponse { Count = count, Joined = string.Join(",", joined) };
    }

    public async Task Bidi(IAsyncEnumerable<BidiRequest> requests, IServerStreamWriter<BidiResponse> responses, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        var i = 0;
        await foreach (var r in requests)
        {
            await responses.WriteAsync(new BidiResponse { Message = r.Message, Index = i++ });
        }
    }

    public Task<GetStatsResponse> GetStats(GetStatsRequest request, ServerCallContext context) => Task.FromResult(new GetStatsResponse
    {
        CancelledCalls = Interlocked.Read(ref _cancelled),
        DeadlineExceededCalls = Interlocked.Read(ref _deadlineExceeded),
        CompletedCalls = Interlocked.Read(ref _completed),
        StartedCalls = Interlocked.Read(ref _started),
    });

    /// <summary>x-echo-* request metadata comes back as response headers, x-trailer-* as trailers;
    /// x-response-encoding: gzip asks for compressed responses.</summary>
    private static async Task EchoMetadataAsync(ServerCallContext context)
    {
        var headers = new Metadata();
        foreach (var e in context.RequestHeaders)
        {
            if (e.Key.StartsWith("x-echo-", StringComparison.Ordinal)) Copy(e, headers);
            if (e.Key.StartsWith("x-trailer-", StringComparison.Ordinal)) Copy(e, context.ResponseTrailers);
        }
        if (context.RequestHeaders.Get("x-response-encoding") == "gzip") context.CompressResponses = true;
        if (headers.Count > 0) await context.WriteResponseHeadersAsync(headers);
    }

    private static void Copy(Metadata.Entry e, Metadata to)
    {
        if (e.IsBinary) to.Add(e.Key, e.ValueBytes!);
        else to.Add(e.Key, e.Value!);
    }
}
