namespace Vigil.Rpc.Server;

/// <summary>Writes a stream of responses; each message is sent (and flushed) as it is written.</summary>
public interface IServerStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

/// <summary>What a handler knows about its call.</summary>
public sealed class ServerCallContext
{
    private readonly CallState _call;

    internal ServerCallContext(CallState call) => _call = call;

    /// <summary>The method path, "/package.Service/Method".</summary>
    public string Method => _call.Handler.Path;
    public Metadata RequestHeaders => _call.RequestHeaders;
    /// <summary>Trailers sent with the final status; add to them before the handler returns.</summary>
    public Metadata ResponseTrailers => _call.ResponseTrailers;
    /// <summary>The call's deadline (UTC), or DateTime.MaxValue when the client set none.</summary>
    public DateTime Deadline => _call.Deadline;
    /// <summary>True once the deadline has passed (the token is then cancelled too).</summary>
    public bool DeadlineExceeded => _call.DeadlineExceeded;
    /// <summary>Cancelled when the client cancels, the deadline passes or the server stops.</summary>
    public CancellationToken CancellationToken => _call.CancellationToken;
    /// <summary>The calling process (SO_PEERCRED), when known.</summary>
    public PeerCredentials? Peer => _call.Peer;
    /// <summary>The request's grpc-encoding ("identity" when none).</summary>
    public string RequestEncoding => _call.RequestEncoding;
    /// <summary>The request's content-type, as sent.</summary>
    public string ContentType => _call.ContentType;

    /// <summary>Compress responses with gzip (only honoured when the client accepts gzip).</summary>
    public bool CompressResponses
    {
        get => _call.CompressResponses;
        set => _call.CompressResponses = value;
    }

    /// <summary>Sends the response headers now, with this custom metadata (at most once, before any message).</summary>
    public Task WriteResponseHeadersAsync(Metadata headers) => _call.WriteResponseHeadersAsync(headers);
}
