namespace Vigil.Netlink;

/// <summary>
/// The kernel refused a request (NLMSG_ERROR with a negative errno, or a dump that ended with one),
/// or the socket failed. The message names the request and the reason, e.g.
/// <c>RTM_NEWADDR 10.0.0.5/24 dev eth0: File exists (EEXIST)</c>, followed by the kernel's own
/// words when it sent an extended ACK (<c>; kernel: ...</c>).
/// </summary>
public class NetlinkException : Exception
{
    public NetlinkException(string operation, int errno, string? kernelMessage = null, Exception? inner = null, string? hint = null)
        : base(Format(operation, errno, kernelMessage, hint), inner)
    {
        Operation = operation;
        ErrorCode = errno;
        KernelMessage = kernelMessage;
        Hint = hint;
    }

    protected NetlinkException(string operation, int errno, string message, string? kernelMessage)
        : base(message)
    {
        Operation = operation;
        ErrorCode = errno;
        KernelMessage = kernelMessage;
    }

    /// <summary>What was asked, e.g. "RTM_NEWADDR 10.0.0.5/24 dev eth0".</summary>
    public string Operation { get; }

    /// <summary>The positive errno value (EEXIST = 17).</summary>
    public int ErrorCode { get; }

    /// <summary>"EEXIST".</summary>
    public string ErrorName => Errno.Name(ErrorCode);

    /// <summary>The extended ACK message (NLMSGERR_ATTR_MSG), when the kernel sent one.</summary>
    public string? KernelMessage { get; }

    /// <summary>What the error most likely means for this request ("the address is not on this interface").</summary>
    public string? Hint { get; }

    /// <summary>The object exists already (adding twice).</summary>
    public bool AlreadyExists => ErrorCode == Errno.EEXIST;

    /// <summary>The object (address, route, rule, link, IPVS service...) is not there.</summary>
    public bool NotFound => ErrorCode is Errno.ENOENT or Errno.ESRCH or Errno.ENODEV or Errno.EADDRNOTAVAIL;

    /// <summary>The kernel answered with something that does not parse.</summary>
    internal static NetlinkException Unparsable(string operation, NetlinkDecodeException e) =>
        new(operation, Errno.EBADMSG, null, e, "the kernel's answer does not parse: " + e.Reason);

    /// <summary>The same error with an explanation of what it means for this request.</summary>
    internal NetlinkException WithHint(string hint) => new(Operation, ErrorCode, KernelMessage, this, hint);

    private static string Format(string operation, int errno, string? kernelMessage, string? hint) =>
        $"{operation}: {Errno.Describe(errno)}" + (hint is null ? "" : $": {hint}")
        + (string.IsNullOrEmpty(kernelMessage) ? "" : $"; kernel: {kernelMessage}");
}
