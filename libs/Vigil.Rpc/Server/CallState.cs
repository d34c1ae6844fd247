using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Vigil.Rpc.Protocol;

namespace Vigil.Rpc.Server;

/// <summary>
/// One server call: reads request messages, writes response messages, and ends the call exactly
/// once with a status (trailers, or a trailers-only response when nothing was sent yet). Writes and
/// the completion are serialized, so a deadline can end the call while its handler still runs.
/// </summary>
internal sealed class CallState : IDisposable
{
    private readonly HttpContext _http;
    private readonly RpcServerOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationToken _serverStopping;
    private CancellationTokenSource? _cts;
    private readonly Timer? _deadlineTimer;
    private bool _headersSent;
    private bool _completed;
    private Metadata? _responseHeaders;
    private bool _requestEnded;
    private Metadata? _requestHeaders;

    public CallState(HttpContext http, MethodHandler handler, RpcServerOptions options, PeerCredentials? peer, CancellationToken serverStopping)
    {
        _http = http;
        _options = options;
        Handler = handler;
        Peer = peer;
        var headers = http.Request.Headers;
        ContentType = headers.ContentType.ToString();
        RequestEncoding = headers[GrpcHttp.EncodingHeader].ToString() is { Length: > 0 } enc ? enc : "identity";
        _serverStopping = serverStopping;
        Deadline = DateTime.MaxValue;
        if (headers[GrpcHttp.TimeoutHeader].ToString() is { Length: > 0 } t && GrpcTimeout.TryParse(t, out var timeout))
        {
            Deadline = DateTime.UtcNow + timeout;
            _ = CancellationSource; // before the timer can fire
            _deadlineTimer = new Timer(_ => OnDeadline(), null, timeout < TimeSpan.FromDays(49) ? timeout : TimeSpan.FromDays(49), Timeout.InfiniteTimeSpan);
        }
    }

    public MethodHandler Handler { get; }
    public PeerCredentials? Peer { get; }
    public string ContentType { get; }
    public string RequestEncoding { get; }
    public bool AcceptsGzip => _http.Request.Headers[GrpcHttp.AcceptEncodingHeader].ToString().Split(',', StringSplitOptions.TrimEntries).Contains("gzip");
    /// <summary>The custom request metadata, parsed on first use (most handlers never look).</summary>
    public Metadata RequestHeaders => _requestHeaders ??= ParseRequestHeaders(_http.Request.Headers);
    public Metadata ResponseTrailers { get; } = new();
    public DateTime Deadline { get; }
    public bool DeadlineExceeded { get; private set; }
    /// <summary>Cancelled when the client goes away, the deadline passes or the server stops.</summary>
    public CancellationToken CancellationToken => CancellationSource.Token;

    /// <summary>For the call's own reads and writes: <see cref="CancellationToken"/> if something made
    /// it (a deadline, the handler), else the client going away.</summary>
    public CancellationToken TransportToken => Volatile.Read(ref _cts)?.Token ?? _http.RequestAborted;

    /// <summary>Whether <see cref="CancellationToken"/> is cancelled, without creating it.</summary>
    public bool IsCancelled => Volatile.Read(ref _cts)?.IsCancellationRequested
        ?? (_http.RequestAborted.IsCancellationRequested || _serverStopping.IsCancellationRequested);

    /// <summary>
    /// The linked source is made on first use: most unary handlers never look at their token, and
    /// linking (an allocation and two registrations) was a measurable part of a call's cost.
    /// </summary>
    private CancellationTokenSource CancellationSource
    {
        get
        {
            if (Volatile.Read(ref _cts) is { } made) return made;
            var fresh = CancellationTokenSource.CreateLinkedTokenSource(_http.RequestAborted, _serverStopping);
            if (Interlocked.CompareExchange(ref _cts, fresh, null) is { } other)
            {
                fresh.Dispose();
                return other;
            }
            return fresh;
        }
    }
    public bool CompressResponses { get; set; }
    public bool ClientCancelled => _http.RequestAborted.IsCancellationRequested;

    private static Metadata ParseRequestHeaders(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers)
        {
            if (Metadata.IsReserved(key)) continue;
            foreach (var v in values)
            {
                if (v is null) continue;
                try { metadata.AddFromWire(key, v); }
                catch (FormatException) { /* a malformed -bin value is dropped, not fatal */ }
            }
        }
        return metadata;
    }

    /// <summary>The deadline ends the call at once; the handler sees its token cancelled.</summary>
    private void OnDeadline()
    {
        DeadlineExceeded = true;
        try { CancellationSource.Cancel(); } catch (ObjectDisposedException) { return; }
        _ = CompleteAsync(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
    }

    /// <summary>
    /// Reads the whole request of a single-request call and returns its one message: the short path
    /// for unary and server-streaming calls (one read loop, no per-message bookkeeping).
    /// </summary>
    public async Task<T> ReadSingleMessageAsync<T>(MessageParser<T> parser) where T : class, IMessage<T>
    {
        var reader = _http.Request.BodyReader;
        ReadResult result;
        while (true)
        {
            try
            {
                // The request arrives with the call: only the client going away (or the deadline, when
                // there is one) needs to interrupt this read, so the linked source is not made for it.
                result = await reader.ReadAsync(TransportToken);
            }
            catch (IOException e)
            {
                throw new OperationCanceledException("the client went away", e, _http.RequestAborted);
            }
            if (result.IsCompleted) break;
            if (result.Buffer.Length > MessageFraming.HeaderSize + (long)_options.MaxReceiveMessageSize)
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max (over {_options.MaxReceiveMessageSize})");
            }
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
        var buffer = result.Buffer;
        byte[]? bytes = null;
        try
        {
            if (MessageFraming.TryRead(ref buffer, _options.MaxReceiveMessageSize, RequestEncoding, out var read)) bytes = read;
        }
        finally
        {
            reader.AdvanceTo(result.Buffer.End);
            _requestEnded = true;
        }
        if (bytes is null)
        {
            throw new RpcException(StatusCode.Internal, result.Buffer.Length == 0 ? "Request did not include a message." : "Incomplete message: the request stream ended inside a message.");
        }
        if (buffer.Length > 0) throw new RpcException(StatusCode.Internal, "Additional messages after the single request message.");
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(StatusCode.Internal, $"Failed to deserialize request message: {e.Message}");
        }
    }

    /// <summary>Reads the next request message, or null at the end of the request stream.</summary>
    public async Task<T?> ReadMessageAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken) where T : class, IMessage<T>
    {
        if (_requestEnded || _completed) return null;
        var reader = _http.Request.BodyReader;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cancellationToken);
            }
            catch (IOException e)
            {
                throw new OperationCanceledException("the client went away", e, cancellationToken);
            }
            var buffer = result.Buffer;
            byte[]? bytes;
            try
            {
                if (!MessageFraming.TryRead(ref buffer, _options.MaxReceiveMessageSize, RequestEncoding, out var read))
                {
                    bytes = null;
                    if (result.IsCompleted)
                    {
                        _requestEnded = true;
                        if (buffer.Length > 0) throw new RpcException(StatusCode.Internal, "Incomplete message: the request stream ended inside a message.");
                    }
                }
                else
                {
                    bytes = read;
                }
            }
            catch
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                throw;
            }
            if (bytes is null)
            {
                if (_requestEnded)
                {
                    reader.AdvanceTo(buffer.End);
                    return null;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            reader.AdvanceTo(buffer.Start);
            try
            {
                return parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(StatusCode.Internal, $"Failed to deserialize request message: {e.Message}");
            }
        }
    }

    public async Task WriteResponseHeadersAsync(Metadata headers)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_headersSent || _completed) throw new InvalidOperationException("response headers were already sent");
            _responseHeaders = headers;
            await SendHeadersLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private bool UseGzip => CompressResponses && AcceptsGzip;

    private Task SendHeadersLockedAsync()
    {
        PrepareHeadersLocked();
        return _http.Response.StartAsync();
    }

    private void PrepareHeadersLocked()
    {
        if (_headersSent) return;
        _headersSent = true;
        var response = _http.Response;
        response.StatusCode = 200;
        response.ContentType = GrpcHttp.ContentType;
        response.Headers[GrpcHttp.AcceptEncodingHeader] = GrpcHttp.SupportedEncodings;
        if (UseGzip) response.Headers[GrpcHttp.EncodingHeader] = "gzip";
        if (_responseHeaders is not null) AppendMetadata(response.Headers, _responseHeaders);
    }

    /// <summary>Writes one response message. <paramref name="flush"/> false leaves it buffered for the
    /// completion that follows at once (single-response calls), so message and trailers leave in one write.</summary>
    public async Task WriteMessageAsync(IMessage message, CancellationToken cancellationToken, bool flush = true)
    {
        var size = message.CalculateSize();
        if (_options.MaxSendMessageSize is { } max && size > max)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {max})");
        }
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_completed)
            {
                throw new InvalidOperationException(DeadlineExceeded ? "the call's deadline has passed" : "the call has already ended");
            }
            PrepareHeadersLocked();
            var writer = _http.Response.BodyWriter;
            if (UseGzip)
            {
                await writer.WriteAsync(MessageFraming.Frame(message.ToByteArray(), true), cancellationToken);
            }
            else
            {
                // Header and message serialized straight into the response pipe.
                MessageFraming.WriteUncompressed(writer.GetSpan(MessageFraming.HeaderSize + size)[..(MessageFraming.HeaderSize + size)], message, size);
                writer.Advance(MessageFraming.HeaderSize + size);
                if (flush) await writer.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Ends the call with the status (only the first completion counts).</summary>
    public async Task CompleteAsync(Status status)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_completed) return;
            _completed = true;
            if (_http.RequestAborted.IsCancellationRequested) return; // nobody to tell
            var response = _http.Response;
            var message = PercentEncoding.Encode(status.Message);
            if (!_headersSent && !response.HasStarted)
            {
                // Trailers-only: one HEADERS frame with the status and END_STREAM.
                _headersSent = true;
                response.StatusCode = 200;
                response.ContentType = GrpcHttp.ContentType;
                response.Headers[GrpcHttp.AcceptEncodingHeader] = GrpcHttp.SupportedEncodings;
                if (_responseHeaders is not null) AppendMetadata(response.Headers, _responseHeaders);
                response.Headers[GrpcHttp.StatusHeader] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (message.Length > 0) response.Headers[GrpcHttp.MessageHeader] = message;
                AppendMetadata(response.Headers, ResponseTrailers);
                await response.CompleteAsync();
                return;
            }
            response.AppendTrailer(GrpcHttp.StatusHeader, ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (message.Length > 0) response.AppendTrailer(GrpcHttp.MessageHeader, message);
            foreach (var e in ResponseTrailers) response.AppendTrailer(e.Key, Metadata.WireValue(e));
            await response.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The client went away while we answered; there is nobody left to tell.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static void AppendMetadata(IHeaderDictionary headers, Metadata metadata)
    {
        foreach (var e in metadata)
        {
            var value = Metadata.WireValue(e);
            headers.Append(e.Key, value);
        }
    }

    public void Dispose()
    {
        _deadlineTimer?.Dispose();
        _cts?.Dispose();
        _writeLock.Dispose();
    }
}
