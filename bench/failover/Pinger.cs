using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Vigil.Testing;

namespace Vigil.Bench.Failover;

/// <summary>
/// The client's fast ping: ICMP echo requests to the VIP at a fixed interval from a raw socket
/// opened inside the client's namespace, on a thread of its own. It only sends; the replies are
/// judged from the client's capture (kernel timestamps, the same clock as the adverts).
/// </summary>
internal sealed class Pinger : IDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _target;
    private readonly TimeSpan _interval;
    private readonly ushort _id;
    private Thread? _thread;
    private volatile bool _running;
    private ushort _seq;

    public Pinger(LabHost client, IPAddress target, TimeSpan interval)
    {
        _target = new IPEndPoint(target, 0);
        _interval = interval;
        _id = (ushort)Random.Shared.Next(1, 0xffff);
        _socket = Netns.Run(client, () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp));
        // Replies also land here (raw ICMP sockets see every ICMP packet); nobody reads them, so a
        // small buffer keeps the kernel from queueing many.
        _socket.ReceiveBufferSize = 4096;
    }

    public long Sent { get; private set; }

    public long SendErrors { get; private set; }

    public void Start()
    {
        if (_running) return;
        _running = true;
        Sent = 0;
        SendErrors = 0;
        _thread = new Thread(Run) { IsBackground = true, Name = "pinger" };
        _thread.Start();
    }

    public void Stop()
    {
        _running = false;
        _thread?.Join();
        _thread = null;
    }

    private void Run()
    {
        var packet = new byte[8 + 16];
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.Zero;
        while (_running)
        {
            var now = clock.Elapsed;
            if (now < next)
            {
                // Sleep(1) is about 1.05 ms here; finer waits would only burn the shared CPUs.
                Thread.Sleep(next - now > TimeSpan.FromMilliseconds(1.5) ? 1 : 0);
                continue;
            }
            next = now - next > _interval ? now + _interval : next + _interval;
            Build(packet, _id, _seq++);
            try
            {
                _socket.SendTo(packet, _target);
                Sent++;
            }
            catch (SocketException)
            {
                // Unreachable while the client's ARP entry is being resolved: keep pinging.
                SendErrors++;
            }
        }
    }

    private static void Build(byte[] packet, ushort id, ushort seq)
    {
        packet.AsSpan().Clear();
        packet[0] = 8; // echo request
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), seq);
        BinaryPrimitives.WriteInt64BigEndian(packet.AsSpan(8), Stopwatch.GetTimestamp());
        uint sum = 0;
        for (var i = 0; i < packet.Length; i += 2) sum += (uint)(packet[i] << 8 | packet[i + 1]);
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)~sum);
    }

    public void Dispose()
    {
        Stop();
        _socket.Dispose();
    }
}
