namespace Vigil.Rpc;

/// <summary>gRPC status codes (grpc/grpc doc/statuscodes.md); the numbers are on the wire.</summary>
public enum StatusCode
{
    OK = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

/// <summary>A call's final status: code and human-readable message.</summary>
public readonly record struct Status(StatusCode Code, string Message = "")
{
    public static readonly Status Ok = new(StatusCode.OK);

    public override string ToString() => Message.Length == 0 ? $"{Code}" : $"{Code}: {Message}";
}

/// <summary>
/// Thrown by handlers to end a call with a status, and by clients when a call ends with one.
/// Core code throws the typed errors of <see cref="RpcErrors"/>; this is the wire form.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(Status status, Metadata? trailers = null)
        : base(status.Message.Length == 0 ? $"Status({status.Code})" : $"Status({status.Code}): {status.Message}")
    {
        Status = status;
        Trailers = trailers ?? new Metadata();
    }

    public RpcException(StatusCode code, string message, Metadata? trailers = null)
        : this(new Status(code, message), trailers)
    {
    }

    public Status Status { get; }
    public StatusCode StatusCode => Status.Code;
    public Metadata Trailers { get; }
}
