namespace Vigil.Netlink;

/// <summary>
/// A netlink message that does not parse: truncated, with a length that runs past its buffer, an
/// attribute of the wrong size, and so on. The only exception the decoders throw on bad input;
/// <see cref="Reason"/> says what was wrong and where.
/// </summary>
public sealed class NetlinkDecodeException : Exception
{
    public NetlinkDecodeException(string reason) : base("malformed netlink message: " + reason)
    {
        Reason = reason;
    }

    public string Reason { get; }
}
