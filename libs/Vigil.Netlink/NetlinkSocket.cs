using System.Net.Sockets;
using System.Runtime.InteropServices;
using Vigil.Netlink.Interop;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink;

/// <summary>Netlink protocols Vigil speaks (the third argument of socket(AF_NETLINK, ...)).</summary>
public enum NetlinkProtocol
{
    Route = 0,
    Generic = 16,
}

/// <summary>How to open a <see cref="NetlinkSocket"/>.</summary>
public sealed record NetlinkSocketOptions
{
    /// <summary>The namespace the socket lives in; the caller's own by default.</summary>
    public NetworkNamespace Namespace { get; init; } = NetworkNamespace.Current;

    /// <summary>Multicast groups to join (RTNLGRP_LINK = 1, ...). Groups up to 32 go into the
    /// sockaddr_nl bind mask, higher ones are joined with NETLINK_ADD_MEMBERSHIP.</summary>
    public IReadOnlyList<uint> Groups { get; init; } = [];

    /// <summary>SO_RCVBUF in bytes (SO_RCVBUFFORCE first, which root may exceed rmem_max with);
    /// null keeps the kernel's default. Monitors want it large so bursts are not dropped.</summary>
    public int? ReceiveBufferSize { get; init; }

    /// <summary>How long a request may wait for the kernel's answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// An AF_NETLINK socket. Requests are serialized: each gets the next sequence number and its
/// answer (ACK, error, a single reply or a multi-part dump up to NLMSG_DONE) is matched by that
/// number, so stale answers of a cancelled request are skipped. NETLINK_EXT_ACK and
/// NETLINK_CAP_ACK are on, so errors carry the kernel's explanation without echoing the request;
/// NETLINK_GET_STRICT_CHK is on for rtnetlink, so dump filters (table, ifindex) are applied by the
/// kernel as they are for iproute2.
/// </summary>
public sealed class NetlinkSocket : IDisposable
{
    private const int MaxDumpAttempts = 5;

    private readonly Socket _socket;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeSpan _timeout;
    private byte[] _buffer = new byte[64 * 1024];
    private int _sequence;

    private NetlinkSocket(Socket socket, NetlinkProtocol protocol, NetworkNamespace ns, uint portId, TimeSpan timeout)
    {
        _socket = socket;
        Protocol = protocol;
        Namespace = ns;
        PortId = portId;
        _timeout = timeout;
        // Start where a previous process left off is impossible to know; a clock-derived start
        // makes a reused port id unlikely to see an old answer match (iproute2 uses time(NULL)).
        _sequence = (int)(Environment.TickCount64 & 0x3fffffff);
    }

    public NetlinkProtocol Protocol { get; }
    public NetworkNamespace Namespace { get; }

    /// <summary>The port id the kernel gave this socket (nl_pid after bind).</summary>
    public uint PortId { get; }

    /// <summary>Opens a socket (in the options' namespace) and binds it.</summary>
    public static NetlinkSocket Open(NetlinkProtocol protocol, NetlinkSocketOptions? options = null)
    {
        options ??= new NetlinkSocketOptions();
        var ns = options.Namespace;
        var fd = ns.RunInside(() =>
        {
            var s = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, (int)protocol);
            return s >= 0 ? s : -Marshal.GetLastPInvokeError();
        });
        var what = $"socket(AF_NETLINK, {protocol})" + (ns.IsCurrent ? "" : $" in network namespace {ns}");
        if (fd < 0)
        {
            throw new NetlinkException(what, -fd);
        }
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        try
        {
            var handle = socket.Handle;
            // Ask for the kernel's reasons with errors, and only the header of our request back.
            SetOption(handle, Libc.NETLINK_EXT_ACK, 1, optional: true);
            SetOption(handle, Libc.NETLINK_CAP_ACK, 1, optional: true);
            if (protocol == NetlinkProtocol.Route)
            {
                SetOption(handle, Libc.NETLINK_GET_STRICT_CHK, 1, optional: true);
            }
            if (options.ReceiveBufferSize is int size)
            {
                if (Libc.SetSockOpt(handle, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, size, sizeof(int)) != 0
                    && Libc.SetSockOpt(handle, Libc.SOL_SOCKET, Libc.SO_RCVBUF, size, sizeof(int)) != 0)
                {
                    throw new NetlinkException($"{what}: setsockopt SO_RCVBUF {size}", Marshal.GetLastPInvokeError());
                }
            }
            uint mask = 0;
            foreach (var g in options.Groups)
            {
                if (g is >= 1 and <= 32)
                {
                    mask |= 1u << (int)(g - 1);
                }
            }
            var address = new Libc.SockaddrNl { Family = Libc.AF_NETLINK, Groups = mask };
            if (Libc.Bind(handle, address, Marshal.SizeOf<Libc.SockaddrNl>()) != 0)
            {
                throw new NetlinkException($"{what}: bind", Marshal.GetLastPInvokeError());
            }
            foreach (var g in options.Groups)
            {
                if (g > 32)
                {
                    SetOption(handle, Libc.NETLINK_ADD_MEMBERSHIP, (int)g, optional: false);
                }
            }
            var length = Marshal.SizeOf<Libc.SockaddrNl>();
            if (Libc.GetSockName(handle, out var bound, ref length) != 0)
            {
                throw new NetlinkException($"{what}: getsockname", Marshal.GetLastPInvokeError());
            }
            return new NetlinkSocket(socket, protocol, ns, bound.PortId, options.RequestTimeout);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Joins a multicast group after opening (NETLINK_ADD_MEMBERSHIP).</summary>
    public void JoinGroup(uint group) => SetOption(_socket.Handle, Libc.NETLINK_ADD_MEMBERSHIP, (int)group, optional: false);

    /// <summary>SO_RCVBUF as the kernel reports it (twice what was asked, for its bookkeeping).</summary>
    public int ReceiveBufferSize
    {
        get
        {
            var length = sizeof(int);
            return Libc.GetSockOpt(_socket.Handle, Libc.SOL_SOCKET, Libc.SO_RCVBUF, out var v, ref length) == 0 ? v : -1;
        }
    }

    /// <summary>
    /// Sends a request and collects its answer: the data messages of a dump (until NLMSG_DONE), of
    /// an acknowledged request (until the ACK), or the single reply of a plain GET. A negative
    /// errno from the kernel becomes a <see cref="NetlinkException"/> naming <paramref name="operation"/>.
    /// Dumps the kernel marks as interrupted (NLM_F_DUMP_INTR) are repeated.
    /// </summary>
    public async Task<IReadOnlyList<NetlinkMessage>> RequestAsync(NetlinkMessageBuilder request, string operation, CancellationToken cancellationToken = default)
    {
        // NLM_F_ROOT|NLM_F_MATCH: nobody sends the same bits as NLM_F_REPLACE|NLM_F_EXCL to a NEW request.
        var isDump = (request.Flags & NetlinkMessageFlags.Dump) == NetlinkMessageFlags.Dump;
        var wantsAck = (request.Flags & NetlinkMessageFlags.Ack) != 0;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            for (var attempt = 1; ; attempt++)
            {
                var sequence = unchecked((uint)Interlocked.Increment(ref _sequence));
                var bytes = request.ToArray(sequence);
                try
                {
                    await _socket.SendAsync(bytes, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    var (messages, interrupted) = await CollectAsync(sequence, isDump, wantsAck, operation, timeout.Token).ConfigureAwait(false);
                    if (!interrupted)
                    {
                        return messages;
                    }
                    if (attempt == MaxDumpAttempts)
                    {
                        throw new NetlinkException(operation, Errno.EINTR, hint: $"dump interrupted by concurrent changes {MaxDumpAttempts} times in a row");
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"{operation}: no answer from the kernel within {_timeout.TotalSeconds:0.#} s");
                }
                catch (SocketException e)
                {
                    throw new NetlinkException(operation, e.NativeErrorCode > 0 ? e.NativeErrorCode : Errno.EIO, null, e);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(List<NetlinkMessage>, bool)> CollectAsync(uint sequence, bool isDump, bool wantsAck, string operation, CancellationToken token)
    {
        var result = new List<NetlinkMessage>();
        var interrupted = false;
        while (true)
        {
            var datagram = await ReceiveDatagramAsync(token).ConfigureAwait(false);
            List<NetlinkMessage> messages;
            try
            {
                messages = NetlinkMessage.Split(datagram);
            }
            catch (NetlinkDecodeException e)
            {
                throw NetlinkException.Unparsable(operation, e);
            }
            foreach (var m in messages)
            {
                if (m.Header.Sequence != sequence)
                {
                    continue; // the answer to an earlier request that was cancelled or timed out
                }
                switch (m.Type)
                {
                    case NetlinkMessageType.Noop:
                        continue;
                    case NetlinkMessageType.Error:
                    {
                        var error = m.Decode(operation, p => NetlinkError.ParseError(m.Header, p));
                        if (error.IsAck)
                        {
                            return (result, false);
                        }
                        throw new NetlinkException(operation, error.Errno, error.Message);
                    }
                    case NetlinkMessageType.Done:
                    {
                        var error = m.Decode(operation, p => NetlinkError.ParseDone(m.Header, p));
                        if (!error.IsAck)
                        {
                            throw new NetlinkException(operation, error.Errno, error.Message);
                        }
                        return (result, interrupted);
                    }
                    case NetlinkMessageType.Overrun:
                        throw new NetlinkException(operation, Errno.ENOBUFS, hint: "NLMSG_OVERRUN: the kernel dropped part of the answer");
                    default:
                        interrupted |= (m.Header.Flags & NetlinkMessageFlags.DumpInterrupted) != 0;
                        result.Add(m);
                        if (!isDump && !wantsAck && (m.Header.Flags & NetlinkMessageFlags.Multi) == 0)
                        {
                            return (result, false);
                        }
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Receives one datagram, whole: a peek with MSG_TRUNC tells its real size first, so a
    /// message larger than the buffer grows the buffer instead of being cut. The returned memory
    /// is a fresh copy the caller may keep.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReceiveDatagramAsync(CancellationToken cancellationToken = default)
    {
        var size = await _socket.ReceiveAsync(_buffer.AsMemory(0, 16), SocketFlags.Peek | SocketFlags.Truncated, cancellationToken).ConfigureAwait(false);
        if (size > _buffer.Length)
        {
            _buffer = new byte[NetlinkAttribute.Align(size)];
        }
        var received = await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        return _buffer.AsSpan(0, received).ToArray();
    }

    /// <summary>
    /// Reads and drops every datagram already queued; returns how many. After ENOBUFS the kernel
    /// keeps dropping notifications silently until the queue is empty, so a monitor drains it
    /// before telling its reader to re-read state: then nothing that happens after that point
    /// is lost.
    /// </summary>
    public int DrainPending(int limit = 100_000)
    {
        var drained = 0;
        while (drained < limit && _socket.Poll(0, SelectMode.SelectRead))
        {
            try
            {
                _socket.Receive(_buffer, SocketFlags.None);
                drained++;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable || e.NativeErrorCode == Errno.ENOBUFS)
            {
                // A second overflow report while draining: keep going.
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                break;
            }
        }
        return drained;
    }

    /// <summary>Sends raw bytes to the kernel (no answer awaited).</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
        await _socket.SendAsync(message, SocketFlags.None, cancellationToken).ConfigureAwait(false);

    public void Dispose()
    {
        _socket.Dispose();
        _gate.Dispose();
    }

    private static void SetOption(nint handle, int option, int value, bool optional)
    {
        if (Libc.SetSockOpt(handle, Libc.SOL_NETLINK, option, value, sizeof(int)) != 0 && !optional)
        {
            throw new NetlinkException($"setsockopt SOL_NETLINK {option} = {value}", Marshal.GetLastPInvokeError());
        }
    }
}
