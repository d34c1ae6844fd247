using System.Net;

namespace Vigil.Consul;

/// <summary>
/// Consul answered with an error status (the body is Consul's plain-text message), or could not
/// be reached. The subclasses say which, so callers can tell "retry later" from "fix the token".
/// </summary>
public class ConsulException : Exception
{
    public ConsulException(string message, HttpStatusCode? statusCode = null, Exception? inner = null) : base(message, inner)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status Consul answered with; null when there was no answer.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Worth retrying later: the agent is down, restarting, or has no leader.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>403: the ACL token is missing or lacks the permission ("Permission denied").</summary>
public sealed class ConsulAclException(string message) : ConsulException(message, HttpStatusCode.Forbidden);

/// <summary>404: no such service, check, session or key (Consul's message says which).</summary>
public sealed class ConsulNotFoundException(string message) : ConsulException(message, HttpStatusCode.NotFound);

/// <summary>5xx: the agent failed the request (no cluster leader, an RPC error); retry.</summary>
public sealed class ConsulServerException(string message, HttpStatusCode statusCode) : ConsulException(message, statusCode)
{
    public override bool IsTransient => true;
}

/// <summary>No answer: connection refused, reset, TLS handshake failed, or the request timed out.</summary>
public sealed class ConsulUnavailableException(string message, Exception? inner) : ConsulException(message, null, inner)
{
    public override bool IsTransient => true;
}
