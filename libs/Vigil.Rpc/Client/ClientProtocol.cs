using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Vigil.Rpc.Protocol;

namespace Vigil.Rpc.Client;

/// <summary>The client side of the protocol shared by every kind of call: request headers,
/// framing, reading the status, and turning transport failures into a status.</summary>
internal static class ClientProtocol
{
    public static readonly MediaTypeHeaderValue GrpcContentType = new(GrpcHttp.ContentType);

    /// <summary>A POST to the method's path with the gRPC headers; the timeout left until the deadline, if any.</summary>
    public static HttpRequestMessage CreateRequest(Uri uri, CallOptions options, out TimeSpan? timeout)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var headers = message.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation("user-agent", "vigil-rpc/1.0");
        headers.TryAddWithoutValidation(GrpcHttp.AcceptEncodingHeader, GrpcHttp.SupportedEncodings);
        if (options.CompressRequests) headers.TryAddWithoutValidation(GrpcHttp.EncodingHeader, "gzip");
        timeout = null;
        if (options.Deadline is { } deadline)
        {
            var left = deadline - DateTime.UtcNow;
            if (left < TimeSpan.Zero) left = TimeSpan.Zero;
            headers.TryAddWithoutValidation(GrpcHttp.TimeoutHeader, GrpcTimeout.Format(left));
            timeout = left;
        }
        if (options.Headers is { } metadata)
        {
            foreach (var e in metadata) headers.TryAddWithoutValidation(e.Key, Metadata.WireValue(e));
        }
        return message;
    }

    public static byte[] Frame(IMessage request, RpcChannelOptions channel, bool gzip)
    {
        var size = request.CalculateSize();
        if (channel.MaxSendMessageSize is { } max && size > max)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {max})");
        }
        if (gzip) return MessageFraming.Frame(request.ToByteArray(), gzip: true);
        var framed = new byte[MessageFraming.HeaderSize + size];
        MessageFraming.WriteUncompressed(framed, request, size);
        return framed;
    }

    /// <summary>
    /// Checks the response headers. Null: messages follow. A status: the call already ended, either
    /// as a trailers-only response or because the response is not gRPC at all.
    /// </summary>
    public static Status? CheckHeaders(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new Status(GrpcHttp.FromHttpStatus((int)response.StatusCode), $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}");
        }
        // Read without HttpClient's parsing into a MediaTypeHeaderValue (a measurable cost per call).
        var contentType = FirstValue(response.Content.Headers, "Content-Type");
        if (!GrpcHttp.IsGrpcContentType(contentType))
        {
            return new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}");
        }
        if (FirstValue(response.Headers, GrpcHttp.StatusHeader) is { } statusText)
        {
            return ParseStatus(statusText, FirstValue(response.Headers, GrpcHttp.MessageHeader));
        }
        var encoding = FirstValue(response.Headers, GrpcHttp.EncodingHeader);
        if (encoding is not (null or "identity" or "gzip"))
        {
            return new Status(StatusCode.Internal, $"The server used an unsupported grpc-encoding '{encoding}'");
        }
        return null;
    }

    public static string? ResponseEncoding(HttpResponseMessage response) => FirstValue(response.Headers, GrpcHttp.EncodingHeader);

    /// <summary>The status in the trailers (a missing grpc-status is a protocol error).</summary>
    public static Status ReadStatus(HttpHeaders trailers)
    {
        var statusText = FirstValue(trailers, GrpcHttp.StatusHeader);
        return statusText is null
            ? new Status(StatusCode.Internal, "No grpc-status found on response.")
            : ParseStatus(statusText, FirstValue(trailers, GrpcHttp.MessageHeader));
    }

    /// <summary>The status of a call that failed in the transport rather than with a status from the server.</summary>
    public static Status Failure(Exception e, bool deadlineHit, bool callerCancelled, bool connected, string socketPath)
    {
        if (deadlineHit) return new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        if (callerCancelled || e is OperationCanceledException) return new Status(StatusCode.Cancelled, "Call canceled by the client.");
        if (e is HttpProtocolException p)
        {
            return p.ErrorCode switch
            {
                0x8 => new Status(StatusCode.Cancelled, "The server cancelled the stream (RST_STREAM CANCEL)."),
                0x7 => new Status(StatusCode.Unavailable, "The server refused the stream (REFUSED_STREAM)."),
                0xB => new Status(StatusCode.ResourceExhausted, "HTTP/2 ENHANCE_YOUR_CALM from the server."),
                _ => new Status(StatusCode.Internal, $"HTTP/2 stream error {p.ErrorCode}: {p.Message}"),
            };
        }
        if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConfigurationLimitExceeded })
        {
            return new Status(StatusCode.ResourceExhausted, "Received message larger than max (the response exceeds the channel's receive limit)");
        }
        if (e is HttpRequestException && !connected)
        {
            var why = e.InnerException?.Message ?? e.Message;
            return new Status(StatusCode.Unavailable, $"cannot connect to {socketPath}: {why}");
        }
        return new Status(StatusCode.Unavailable, $"connection to {socketPath} lost: {e.Message}");
    }

    public static Status ParseStatus(string code, string? message)
    {
        var text = message is null ? "" : PercentEncoding.Decode(message);
        return int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 16
            ? new Status((StatusCode)n, text)
            : new Status(StatusCode.Unknown, $"invalid grpc-status '{code}': {text}");
    }

    public static string? FirstValue(HttpHeaders headers, string name)
    {
        if (!headers.NonValidated.TryGetValues(name, out var values)) return null;
        // The struct enumerator: LINQ's FirstOrDefault would box it on every call.
        foreach (var v in values) return v;
        return null;
    }

    public static Metadata ToMetadata(HttpHeaders headers)
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
}
