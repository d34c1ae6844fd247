using System.Net.Sockets;
using Vigil.Netlink.Generic;
using Vigil.Netlink.Ipvs;
using Vigil.Netlink.Route;
using Vigil.Netlink.Tests.Support;
using Vigil.Netlink.Wire;
using Xunit.Abstractions;

namespace Vigil.Netlink.Tests.Wire;

/// <summary>
/// Random and mutated netlink input into every decoder: the only exception allowed out is
/// <see cref="NetlinkDecodeException"/>. Seeds are fixed so a failure reproduces; the corpus is
/// every message of the captures (real kernel answers and real requests).
/// </summary>
public sealed class HostileInputTests(ITestOutputHelper output)
{
    private static readonly Lazy<List<byte[]>> Corpus = new(() =>
    {
        var datagrams = new List<byte[]>();
        foreach (var dir in new[] { "ip", "kernel", "ipvs" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(StraceCapture.FixtureDirectory, dir), "*.strace"))
            {
                var c = StraceCapture.Load(Path.Combine(dir, Path.GetFileName(file)));
                datagrams.AddRange(c.Received);
                datagrams.AddRange(c.Messages);
            }
        }
        return datagrams;
    });

    /// <summary>Every decoder, fed a payload (the bytes after nlmsghdr).</summary>
    private static readonly (string Name, Action<byte[]> Decode)[] PayloadDecoders =
    [
        ("DecodeAddress", p => RouteMessages.DecodeAddress(p)),
        ("DecodeLink", p => RouteMessages.DecodeLink(p)),
        ("DecodeRoute", p => RouteMessages.DecodeRoute(p)),
        ("DecodeRule", p => RouteMessages.DecodeRule(p)),
        ("DecodeFamily", p => GenericMessages.DecodeFamily(p)),
        ("DecodeService", p => IpvsMessages.DecodeService(p)),
        ("DecodeDestination4", p => IpvsMessages.DecodeDestination(p, AddressFamily.InterNetwork)),
        ("DecodeDestination6", p => IpvsMessages.DecodeDestination(p, AddressFamily.InterNetworkV6)),
        ("DecodeDaemon", p => IpvsMessages.DecodeDaemon(p)),
        ("DecodeTimeouts", p => IpvsMessages.DecodeTimeouts(p)),
        ("DecodeInfo", p => IpvsMessages.DecodeInfo(p)),
        ("ParseError", p => NetlinkError.ParseError(new NetlinkHeader(0, 2, NetlinkMessageFlags.AckTlvs, 0, 0), p)),
        ("ParseErrorUncapped", p => NetlinkError.ParseError(new NetlinkHeader(0, 2, NetlinkMessageFlags.Capped | NetlinkMessageFlags.AckTlvs, 0, 0), p)),
        ("ParseDone", p => NetlinkError.ParseDone(new NetlinkHeader(0, 3, NetlinkMessageFlags.AckTlvs, 0, 0), p)),
    ];

    private static int Check(string name, Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (NetlinkDecodeException)
        {
            return 1;
        }
        catch (Exception e)
        {
            Assert.Fail($"{name} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            return 0;
        }
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        var bytes = (byte[])source.Clone();
        switch (random.Next(6))
        {
            case 0: // flip a few bytes
                for (var i = random.Next(1, 6); i > 0 && bytes.Length > 0; i--) bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                break;
            case 1: // truncate
                bytes = bytes[..random.Next(bytes.Length + 1)];
                break;
            case 2: // a hostile 16-bit length somewhere (nla_len or nlmsg_len low half)
                if (bytes.Length >= 2)
                {
                    var at = random.Next(bytes.Length - 1) & ~1;
                    var len = (ushort)(random.Next(3) switch { 0 => 0, 1 => random.Next(1, 4), _ => random.Next(0x10000) });
                    bytes[at] = (byte)len;
                    bytes[at + 1] = (byte)(len >> 8);
                }
                break;
            case 3: // append garbage
                bytes = [.. bytes, .. Enumerable.Range(0, random.Next(1, 40)).Select(_ => (byte)random.Next(256))];
                break;
            case 4: // set the nested flag or the byte-order flag on an attribute type
                if (bytes.Length >= 4) bytes[random.Next(bytes.Length / 2) * 2 + 1 < bytes.Length ? random.Next(bytes.Length / 2) * 2 + 1 : 1] |= 0xc0;
                break;
            default: // pure noise of the same size
                random.NextBytes(bytes);
                break;
        }
        return bytes;
    }

    [Fact]
    public void Decoders_MutatedRealMessages_OnlyDecodeErrors()
    {
        var random = new Random(20240611);
        var corpus = Corpus.Value;
        Assert.True(corpus.Count > 100, $"corpus has only {corpus.Count} datagrams");
        var rejected = 0;
        var runs = 0;
        for (var round = 0; round < 40; round++)
        {
            foreach (var datagram in corpus)
            {
                var mutated = Mutate(random, datagram);
                runs++;
                rejected += Check("NetlinkMessage.Split", () => NetlinkMessage.Split(mutated));
                // Decode each message's payload with every decoder, valid framing or not.
                var payload = mutated.Length > NetlinkHeader.Size ? mutated[NetlinkHeader.Size..] : mutated;
                foreach (var (name, decode) in PayloadDecoders)
                {
                    runs++;
                    rejected += Check(name, () => decode(payload));
                }
            }
        }
        output.WriteLine($"{runs} decoder runs on mutated messages, {rejected} rejected with a reason");
    }

    [Fact]
    public void Decoders_RandomBytes_OnlyDecodeErrors()
    {
        var random = new Random(7);
        var runs = 0;
        for (var i = 0; i < 20000; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            // Plausible headers make the decoders go deeper than the first check.
            if (bytes.Length > 8 && random.Next(2) == 0)
            {
                bytes[0] = (byte)(random.Next(2) == 0 ? 2 : 10);
                bytes[1] = (byte)random.Next(0, 129);
            }
            Check("NetlinkMessage.Split", () => NetlinkMessage.Split(bytes));
            foreach (var (name, decode) in PayloadDecoders)
            {
                runs++;
                Check(name, () => decode(bytes));
            }
        }
        output.WriteLine($"{runs} decoder runs on random bytes");
    }

    [Fact]
    public void Monitor_MutatedNotifications_CountedNeverThrown()
    {
        var random = new Random(99);
        var events = 0;
        var malformed = 0;
        string? last = null;
        foreach (var datagram in Corpus.Value)
        {
            for (var i = 0; i < 20; i++)
            {
                var mutated = Mutate(random, datagram);
                events += Check("RtnetlinkMonitor.Parse", () => RtnetlinkMonitor.Parse(mutated, e => { malformed++; last = e.Reason; })) == 0 ? 1 : 0;
            }
        }
        Assert.True(malformed > 0);
        output.WriteLine($"{events} datagrams parsed, {malformed} malformed notifications reported (last: {last})");
    }
}
