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
    private static readonly MediaTypeHeaderValue GrpcContentType = new(GrpcHttp.ContentType);
    private readonly RpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _cts;
    private readonly Timer? _deadlineTimer;
    private readonly PushContent? _requestStream;
    private readonly Task<HttpResponseMessage> _send;
    private readonly Lazy<Task<Metadata>> _headers;
    private readonly Lazy<Task<TResponse>> _single;
    private HttpResponseMessage? _response;
    private PipeReader? _body;
    private string? _responseEncoding;
    private volatile bool _deadlineHit;
    private Status? _status;
    private Metadata _trailers = new();

    internal ClientCall(RpcChannel channel, Method<TRequest, TResponse> method, CallOptions options, TRequest? request)
    {
        _channel = channel;
        _method = method;
        _options = options;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        var streamingRequest = method.Kind is MethodKind.ClientStreaming or MethodKind.DuplexStreaming;
        if (!streamingRequest && request is null) throw new ArgumentNullException(nameof(request), $"{method.Path} takes one request message");

        var message = new HttpRequestMessage(HttpMethod.Post, new Uri("http://localhost" + method.Path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var headers = message.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation("user-agent", "vigil-rpc/1.0");
        headers.TryAddWithoutValidation(GrpcHttp.AcceptEncodingHeader, GrpcHttp.SupportedEncodings);
        if (options.CompressRequests) headers.TryAddWithoutValidation(GrpcHttp.EncodingHeader, "gzip");
        if (options.Deadline is { } deadline)
        {
            var timeout = deadline - DateTime.UtcNow;
            headers.TryAddWithoutValidation(GrpcHttp.TimeoutHeader, GrpcTimeout.Format(timeout));
            _deadlineTimer = new Timer(_ => OnDeadline(), null, timeout <= TimeSpan.Zero ? TimeSpan.Zero : timeout, Timeout.InfiniteTimeSpan);
        }
        if (options.Headers is { } metadata)
        {
            foreach (var e in metadata) headers.TryAddWithoutValidation(e.Key, Metadata.WireValue(e));
        }

        if (streamingRequest)
        {
            _requestStream = new PushContent();
            message.Content = _requestStream;
        }
        else
        {
            message.Content = new ByteArrayContent(Frame(request!));
        }
        message.Content.Headers.ContentType = GrpcContentType;
        _send = SendAsync(message);
        _headers = new Lazy<Task<Metadata>>(ReadHeadersAsync);
        _single = new Lazy<Task<TResponse>>(ReadSingleAsync);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message)
    {
        // Yield first so a synchronous connect failure surfaces through the call's tasks, not the constructor.
        await Task.Yield();
        return await _channel.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, _cts.Token);
    }

    private void OnDeadline()
    {
        _deadlineHit = true;
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    private byte[] Frame(TRequest request)
    {
        var bytes = request.ToByteArray();
        if (_channel.Options.MaxSendMessageSize is { } max && bytes.Length > max)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({bytes.Length} vs. {max})");
        }
        return MessageFraming.Frame(bytes, _options.CompressRequests);
    }

    /// <summary>The response headers (custom metadata only).</summary>
    public Task<Metadata> ResponseHeadersAsync => _headers.Value;

    /// <summary>The grpc-encoding of the response messages (null when none was named); valid after the headers.</summary>
    public string? ResponseEncoding => _responseEncoding;

    /// <summary>The single response of a unary or client-streaming call.</summary>
    public Task<TResponse> ResponseAsync => _single.Value;

    /// <summary>The final status; valid once the call has ended.</summary>
    public Status GetStatus() => _status ?? throw new InvalidOperationException("the call has not ended yet");

    /// <summary>The trailers; valid once the call has ended.</summary>
    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("the call has not ended yet") : _trailers;

    /// <summary>Sends one request message (client and bidi streaming).</summary>
    public async Task WriteAsync(TRequest message)
    {
        if (_requestStream is null) throw new InvalidOperationException($"{_method.Path} does not stream requests");
        if (_status is { } s && s.Code != StatusCode.OK) throw new RpcException(s, _trailers);
        try
        {
            await _requestStream.WriteAsync(Frame(message), _cts.Token);
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

    private async Task<Metadata> ReadHeadersAsync()
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
        var metadata = ToMetadata(response.Headers);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw End(new Status(GrpcHttp.FromHttpStatus((int)response.StatusCode), $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}"), new Metadata());
        }
        var contentType = response.Content.Headers.ContentType?.MediaType;
        if (!GrpcHttp.IsGrpcContentType(response.Content.Headers.ContentType?.ToString()))
        {
            throw End(new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}"), new Metadata());
        }
        if (FirstValue(response.Headers, GrpcHttp.StatusHeader) is { } statusText)
        {
            // Trailers-only response: the status came with the headers.
            var status = ParseStatus(statusText, FirstValue(response.Headers, GrpcHttp.MessageHeader));
            var ex = End(status, metadata);
            if (status.Code != StatusCode.OK) throw ex;
            return metadata;
        }
        _responseEncoding = FirstValue(response.Headers, GrpcHttp.EncodingHeader);
        if (_responseEncoding is not (null or "identity" or "gzip"))
        {
            throw End(new Status(StatusCode.Internal, $"The server used an unsupported grpc-encoding '{_responseEncoding}'"), new Metadata());
        }
        _body = PipeReader.Create(await response.Content.ReadAsStreamAsync(_cts.Token));
        return metadata;
    }

    private async Task<TResponse?> ReadNextAsync()
    {
        await ResponseHeadersAsync;
        if (_status is { } done)
        {
            if (done.Code != StatusCode.OK) throw new RpcException(done, _trailers);
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
                    var statusText = FirstValue(trailers, GrpcHttp.StatusHeader);
                    var status = statusText is null
                        ? new Status(StatusCode.Internal, "No grpc-status found on response.")
                        : ParseStatus(statusText, FirstValue(trailers, GrpcHttp.MessageHeader));
                    var ex = End(status, ToMetadata(trailers));
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
        if (_status is { } known && known.Code != StatusCode.OK) return Task.FromResult(new RpcException(known, _trailers));
        Status status;
        if (_deadlineHit) status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        else if (_options.CancellationToken.IsCancellationRequested || e is OperationCanceledException) status = new Status(StatusCode.Cancelled, "Call canceled by the client.");
        else if (e is HttpProtocolException p)
        {
            status = p.ErrorCode switch
            {
                0x8 => new Status(StatusCode.Cancelled, "The server cancelled the stream (RST_STREAM CANCEL)."),
                0x7 => new Status(StatusCode.Unavailable, "The server refused the stream (REFUSED_STREAM)."),
                0xB => new Status(StatusCode.ResourceExhausted, "HTTP/2 ENHANCE_YOUR_CALM from the server."),
                _ => new Status(StatusCode.Internal, $"HTTP/2 stream error {p.ErrorCode}: {p.Message}"),
            };
        }
        else if (e is HttpRequestException && _response is null)
        {
            var why = e.InnerException?.Message ?? e.Message;
            status = new Status(StatusCode.Unavailable, $"cannot connect to {_channel.SocketPath}: {why}");
        }
        else status = new Status(StatusCode.Unavailable, $"connection to {_channel.SocketPath} lost: {e.Message}");
        return Task.FromResult(End(status, new Metadata()));
    }

    private RpcException End(Status status, Metadata trailers)
    {
        _status ??= status;
        _trailers = trailers;
        return new RpcException(_status.Value, trailers);
    }

    private static Status ParseStatus(string code, string? message)
    {
        var text = message is null ? "" : PercentEncoding.Decode(message);
        return int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 16
            ? new Status((StatusCode)n, text)
            : new Status(StatusCode.Unknown, $"invalid grpc-status '{code}': {text}");
    }

    private static string? FirstValue(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers.NonValidated)
        {
            if (Metadata.IsReserved(key)) continue;
            foreach (var v in values)
            {
                try { metadata.AddFromWire(key, v); }
                catch (FormatException) { }
            }
        }
        return metadata;
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
