using Grpc.Core;

namespace Vigil.Hosting;

/// <summary>
/// The few typed errors core code throws. Core code never sees gRPC; <see cref="ErrorMapping"/>
/// is the one place that turns these into status codes.
/// </summary>
public abstract class VigilException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The caller asked for something that does not exist (an instance, a real server).</summary>
public sealed class NotFoundException(string message) : VigilException(message);

/// <summary>The caller asked to create something that is there already (a real server).</summary>
public sealed class AlreadyExistsException(string message) : VigilException(message);

/// <summary>The request is malformed; the message names the field and what is wrong.</summary>
public sealed class InvalidArgumentException(string field, string message) : VigilException($"{field}: {message}")
{
    public string Field { get; } = field;
}

/// <summary>The request is valid but the system is not in a state to do it.</summary>
public sealed class FailedPreconditionException(string message) : VigilException(message);

/// <summary>A daemon or resource needed for the request is down.</summary>
public sealed class UnavailableException(string message, Exception? inner = null) : VigilException(message, inner);

public static class ErrorMapping
{
    public static Status? ToStatus(Exception e) => e switch
    {
        NotFoundException => new Status(StatusCode.NotFound, e.Message),
        AlreadyExistsException => new Status(StatusCode.AlreadyExists, e.Message),
        InvalidArgumentException => new Status(StatusCode.InvalidArgument, e.Message),
        FailedPreconditionException => new Status(StatusCode.FailedPrecondition, e.Message),
        UnavailableException => new Status(StatusCode.Unavailable, e.Message),
        _ => null,
    };
}
