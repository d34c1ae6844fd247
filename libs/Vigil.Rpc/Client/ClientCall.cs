using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Vigil.Rpc.Protocol;
using Vigil.Rpc.Server;

namespace Vigil.Rpc.Client;

/// <summary>
/// One client call of any kind. Request messages: the single request given at start (unary and
/// server streaming) or <see cref="WriteAsync"/> + <see cref="CompleteRequestAsync"/> (client and
/// bidi streaming). Responses: <see cref="ResponseAsync"/> (one) or <see cref="ReadAllAsync"/>
/// (stream). Errors surface as <see cref="RpcException"/>; disposing an unfinished call cancels it.
/// </summary>
public sealed class ClientCall<TRequest, TResponse> : IAsyncDisposable
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly RpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _cts;
    private readonly Timer? _deadlineTimer;
    private readonly PushContent? _requestStream;
    private readonly Task<HttpResponseMessage> _send;
    private readonly Lazy<Task<HttpResponseHeaders>> _headers;
    private readonly Lazy<Task<TResponse>> _single;
    private HttpResponseMessage? _response;
    private PipeReader? _body;
    private string? _responseEncoding;
    private volatile bool _deadlineHit;
    private Status? _status;
    private Metadata? _trailers;
    private HttpHeaders? _trailerHeaders;

    internal ClientCall(RpcChannel channel, Method<TRequest, TResponse> method, CallOptions options, TRequest? request)
    {
        _channel = channel;
        _method = method;
        _options = options;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        var streamingRequest = method.Kind is MethodKind.ClientStreaming or MethodKind.DuplexStreaming;
        if (!streamingRequest && request is null) throw new ArgumentNullException(nameof(request), $"{method.Path} takes one request message");

        var message = ClientProtocol.CreateRequest(method.RequestUri, options, out var timeout);
        if (timeout is { } left)
        {
            _deadlineTimer = new Timer(_ => OnDeadline(), null, left, Timeout.InfiniteTimeSpan);
        }

        if (streamingRequest)
        {
            _requestStream = new PushContent();
            message.Content = _requestStream;
        }
        else
        {
            message.Content = new ByteArrayContent(ClientProtocol.Frame(request!, channel.Options, options.CompressRequests));
        }
        message.Content.Headers.ContentType = ClientProtocol.GrpcContentType;
        _send = SendAsync(message);
        _headers = new Lazy<Task<HttpResponseHeaders>>(ReadHeadersAsync);
        _single = new Lazy<Task<TResponse>>(ReadSingleAsync);
    }

    // An async method, so even a synchronous failure surfaces through the call's tasks, not the constructor.
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message) =>
        await _channel.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, _cts.Token);

    private void OnDeadline()
    {
        _deadlineHit = true;
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>The response headers (custom metadata only).</summary>
    public Task<Metadata> ResponseHeadersAsync => HeadersAsMetadataAsync();

    private async Task<Metadata> HeadersAsMetadataAsync() => ClientProtocol.ToMetadata(await _headers.Value);

    /// <summary>The grpc-encoding of the response messages (null when none was named); valid after the headers.</summary>
    public string? ResponseEncoding => _responseEncoding;

    /// <summary>The single response of a unary or client-streaming call.</summary>
    public Task<TResponse> ResponseAsync => _single.Value;

    /// <summary>The final status; valid once the call has ended.</summary>
    public Status GetStatus() => _status ?? throw new InvalidOperationException("the call has not ended yet");

    /// <summary>The trailers; valid once the call has ended.</summary>
    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("the call has not ended yet") : Trailers;

    // Parsed only when someone asks: most calls never look at their trailers.
    private Metadata Trailers => _trailers ??= _trailerHeaders is null ? new Metadata() : ClientProtocol.ToMetadata(_trailerHeaders);

    /// <summary>Sends one request message (client and bidi streaming).</summary>
    public async Task WriteAsync(TRequest message)
    {
        if (_requestStream is null) throw new InvalidOperationException($"{_method.Path} does not stream requests");
        if (_status is { } s && s.Code != StatusCode.OK) throw new RpcException(s, Trailers);
        try
        {
            await _requestStream.WriteAsync(ClientProtocol.Frame(message, _channel.Options, _options.CompressRequests), _cts.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            throw await FailureAsync(e);
        }
    }

    /// <summary>Ends the request stream (the server sees end of input).</summary>
    public Task CompleteRequestAsync()
    {
        if (_requestStream is null) throw new InvalidOperationException($"{_method.Path} does not stream requests");
        _requestStream.Complete();
        return Task.CompletedTask;
    }

    /// <summary>Every response message; throws <see cref="RpcException"/> if the call ends with an error.</summary>
    public async IAsyncEnumerable<TResponse> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var registration = cancellationToken.Register(() => _cts.Cancel());
        while (await ReadNextAsync() is { } message)
        {
            yield return message;
        }
    }

    private async Task<TResponse> ReadSingleAsync()
    {
        var message = await ReadNextAsync();
        if (message is null)
        {
            throw new RpcException(StatusCode.Internal, "Failed to deserialize response message: the call ended OK without one.");
        }
        if (await ReadNextAsync() is not null)
        {
            throw new RpcException(StatusCode.Internal, "Received more than one response message for a single-response call.");
        }
        return message;
    }

    private async Task<HttpResponseHeaders> ReadHeadersAsync()
    {
        HttpResponseMessage response;
        try
        {
            response = await _send;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw await FailureAsync(e);
        }
        _response = response;
        if (ClientProtocol.CheckHeaders(response) is { } early)
        {
            // Trailers-only (the status came with the headers), or not a gRPC response at all.
            var ex = End(early, response.Headers);
            if (early.Code != StatusCode.OK) throw ex;
            return response.Headers;
        }
        _responseEncoding = ClientProtocol.ResponseEncoding(response);
        _body = PipeReader.Create(await response.Content.ReadAsStreamAsync(_cts.Token));
        return response.Headers;
    }

    private async Task<TResponse?> ReadNextAsync()
    {
        await _headers.Value;
        if (_status is { } done)
        {
            if (done.Code != StatusCode.OK) throw new RpcException(done, Trailers);
            return null;
        }
        var body = _body!;
        try
        {
            while (true)
            {
                var result = await body.ReadAsync(_cts.Token);
                var buffer = result.Buffer;
                if (MessageFraming.TryRead(ref buffer, _channel.Options.MaxReceiveMessageSize, _responseEncoding, out var bytes))
                {
                    body.AdvanceTo(buffer.Start);
                    try
                    {
                        return _method.ResponseParser.ParseFrom(bytes);
                    }
                    catch (InvalidProtocolBufferException e)
                    {
                        throw End(new Status(StatusCode.Internal, $"Failed to deserialize response message: {e.Message}"), new Metadata());
                    }
                }
                if (result.IsCompleted)
                {
                    body.AdvanceTo(buffer.End);
                    if (buffer.Length > 0) throw End(new Status(StatusCode.Internal, "The response ended inside a message."), new Metadata());
                    var trailers = _response!.TrailingHeaders;
                    var status = ClientProtocol.ReadStatus(trailers);
                    var ex = End(status, trailers);
                    if (status.Code != StatusCode.OK) throw ex;
                    return null;
                }
                body.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (RpcException e) when (_status is null)
        {
            // A local protocol error (oversize message and the like): end the call and reset the stream.
            End(e.Status, e.Trailers);
            _cts.Cancel();
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            throw await FailureAsync(e);
        }
    }

    /// <summary>Turns a transport exception into the call's status.</summary>
    private Task<RpcException> FailureAsync(Exception e)
    {
        if (_status is { } known && known.Code != StatusCode.OK) return Task.FromResult(new RpcException(known, Trailers));
        var status = ClientProtocol.Failure(e, _deadlineHit, _options.CancellationToken.IsCancellationRequested, _response is not null, _channel.SocketPath);
        return Task.FromResult(End(status, new Metadata()));
    }

    private RpcException End(Status status, Metadata trailers)
    {
        _status ??= status;
        _trailers = trailers;
        return new RpcException(_status.Value, trailers);
    }

    private RpcException End(Status status, HttpHeaders trailers)
    {
        _status ??= status;
        _trailerHeaders = trailers;
        _trailers = null;
        // The exception is only built for errors; an OK end never needs the metadata.
        return status.Code == StatusCode.OK ? null! : new RpcException(_status.Value, Trailers);
    }

    public async ValueTask DisposeAsync()
    {
        if (_status is null)
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }
        _requestStream?.Complete();
        _deadlineTimer?.Dispose();
        try
        {
            var response = await _send.ConfigureAwait(false);
            response.Dispose();
        }
        catch (Exception) { /* its failure was reported to whoever awaited it */ }
        _cts.Dispose();
    }

    /// <summary>Request content written while the call runs (client and bidi streaming).</summary>
    private sealed class PushContent : HttpContent
    {
        private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly SemaphoreSlim _writeLock = new(1, 1);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) => await SerializeToStreamAsync(stream, context, default);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            _stream.TrySetResult(stream);
            await using var reg = cancellationToken.Register(() => _done.TrySetCanceled());
            await _done.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }

        public async Task WriteAsync(byte[] frame, CancellationToken cancellationToken)
        {
            var stream = await _stream.Task.WaitAsync(cancellationToken);
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                if (_done.Task.IsCompleted) throw new InvalidOperationException("the request stream is already complete");
                await stream.WriteAsync(frame, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        public void Complete() => _done.TrySetResult();
    }
}
