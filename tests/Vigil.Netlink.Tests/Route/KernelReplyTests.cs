using System.Net;
using System.Text.Json;
using Vigil.Netlink.Route;
using Vigil.Netlink.Tests.Support;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Tests.Route;

/// <summary>
/// The decoders against real kernel answers: Fixtures/kernel holds what the kernel sent to
/// <c>ip</c> (strace recvmsg dumps) and iproute2's own reading of the same state (<c>ip -j</c>);
/// Vigil's decoding of the bytes must say what iproute2 says. Regenerate with
/// Fixtures/capture-replies.sh.
/// </summary>
public sealed class KernelReplyTests
{
    private static (List<NetlinkMessage> Messages, JsonElement Json) Load(string name)
    {
        var capture = StraceCapture.Load($"kernel/{name}.strace");
        var messages = capture.Received.SelectMany(d => NetlinkMessage.Split(d)).ToList();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(StraceCapture.FixtureDirectory, "kernel", name + ".json")));
        return (messages, doc.RootElement.Clone());
    }

    private static List<T> Decode<T>(List<NetlinkMessage> messages, ushort type, Func<NetlinkMessage, T> decode) =>
        messages.Where(m => m.Type == type).Select(decode).ToList();

    private static Dictionary<string, int> IndexByName() =>
        Load("links").Json.EnumerateArray().ToDictionary(l => l.GetProperty("ifname").GetString()!, l => l.GetProperty("ifindex").GetInt32());

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : null;

    [Fact]
    public void DecodeLink_KernelDump_AgreesWithIproute()
    {
        var (messages, json) = Load("links");
        var links = Decode(messages, NetlinkMessageType.NewLink, m => RouteMessages.DecodeLink(m.Payload.Span));
        Assert.Equal(json.GetArrayLength(), links.Count);
        foreach (var j in json.EnumerateArray())
        {
            var l = links.Single(x => x.Index == j.GetProperty("ifindex").GetInt32());
            Assert.Equal(j.GetProperty("ifname").GetString(), l.Name);
            Assert.Equal(j.GetProperty("mtu").GetInt32(), l.Mtu);
            Assert.Equal(j.GetProperty("address").GetString(), Link.MacText(l.Address!));
            Assert.Equal(j.GetProperty("operstate").GetString(), l.OperationalState switch
            {
                OperationalState.Up => "UP",
                OperationalState.Down => "DOWN",
                OperationalState.LowerLayerDown => "LOWERLAYERDOWN",
                OperationalState.Unknown => "UNKNOWN",
                var other => other.ToString(),
            });
            var flags = j.GetProperty("flags").EnumerateArray().Select(f => f.GetString()).ToHashSet();
            Assert.Equal(flags.Contains("UP"), l.IsUp);
            Assert.Equal(flags.Contains("LOWER_UP"), l.HasCarrier);
            Assert.Equal(Str(j, "txqlen"), l.TxQueueLength?.ToString());
            if (j.TryGetProperty("linkinfo", out var info))
            {
                Assert.Equal(info.GetProperty("info_kind").GetString(), l.Kind);
                if (l.Kind == "macvlan")
                {
                    Assert.Equal(info.GetProperty("info_data").GetProperty("mode").GetString(), l.MacvlanMode.ToString()!.ToLowerInvariant());
                    Assert.Equal(IndexByName()[j.GetProperty("link").GetString()!], l.ParentIndex);
                }
            }
            else
            {
                Assert.Null(l.Kind);
            }
        }
        Assert.Equal("00:00:5e:00:01:07", Link.MacText(links.Single(l => l.Name == "vrrp.7").Address!));
    }

    [Fact]
    public void DecodeAddress_KernelDump_AgreesWithIproute()
    {
        var (messages, json) = Load("addresses");
        var addresses = Decode(messages, NetlinkMessageType.NewAddr, m => RouteMessages.DecodeAddress(m.Payload.Span));
        var expected = json.EnumerateArray().SelectMany(l => l.GetProperty("addr_info").EnumerateArray().Select(a => (Index: l.GetProperty("ifindex").GetInt32(), Info: a))).ToList();
        Assert.Equal(expected.Count, addresses.Count);
        foreach (var (index, j) in expected)
        {
            var a = addresses.Single(x => x.Interface.Index == index && x.Address.Address.Equals(IPAddress.Parse(j.GetProperty("local").GetString()!)));
            Assert.Equal(j.GetProperty("prefixlen").GetInt32(), a.Address.PrefixLength);
            Assert.Equal(Str(j, "broadcast"), a.Broadcast?.ToString());
            Assert.Equal(Str(j, "address"), a.Peer?.ToString());
            Assert.Equal(j.GetProperty("scope").GetString(), InterfaceAddress.ScopeName(a.Scope!.Value));
            Assert.Equal(Str(j, "label"), a.Label);
            var valid = j.GetProperty("valid_life_time").GetInt64();
            Assert.Equal(valid == uint.MaxValue ? null : valid, (long?)a.ValidLifetime?.TotalSeconds);
            var preferred = j.GetProperty("preferred_life_time").GetInt64();
            Assert.Equal(preferred == uint.MaxValue ? null : preferred, (long?)a.PreferredLifetime?.TotalSeconds);
            Assert.Equal(j.TryGetProperty("nodad", out _), (a.Flags & AddressFlags.NoDad) != 0);
            Assert.Equal(j.TryGetProperty("noprefixroute", out _), (a.Flags & AddressFlags.NoPrefixRoute) != 0);
            Assert.Equal(j.TryGetProperty("home", out _), (a.Flags & AddressFlags.HomeAddress) != 0);
            Assert.Equal(j.TryGetProperty("tentative", out _), (a.Flags & AddressFlags.Tentative) != 0);
        }
    }

    [Theory]
    [InlineData("routes-v4")]
    [InlineData("routes-v6")]
    public void DecodeRoute_KernelDump_AgreesWithIproute(string name)
    {
        var (messages, json) = Load(name);
        var names = IndexByName();
        var routes = Decode(messages, NetlinkMessageType.NewRoute, m => RouteMessages.DecodeRoute(m.Payload.Span));
        Assert.Equal(json.GetArrayLength(), routes.Count);
        // Same order as iproute2 printed them: it prints in dump order.
        foreach (var (j, r) in json.EnumerateArray().Zip(routes))
        {
            var dst = j.GetProperty("dst").GetString()!;
            var expectedDst = dst == "default" ? (r.Family == System.Net.Sockets.AddressFamily.InterNetwork ? "0.0.0.0/0" : "::/0")
                : dst.Contains('/') ? dst : IPPrefix.Host(IPAddress.Parse(dst)).ToString();
            Assert.Equal(expectedDst, r.Destination.ToString());
            Assert.Equal(Str(j, "type") ?? "unicast", r.Type.ToString()!.ToLowerInvariant());
            Assert.Equal(Str(j, "gateway"), r.Gateway?.ToString());
            Assert.Equal(Str(j, "prefsrc"), r.PreferredSource?.ToString());
            Assert.Equal(Str(j, "dev") is string dev ? names[dev] : null, r.Interface?.Index);
            Assert.Equal(Str(j, "table") ?? "main", RouteTable.Name(r.Table!.Value));
            Assert.Equal(Str(j, "metric") ?? (r.Family == System.Net.Sockets.AddressFamily.InterNetwork ? null : "0"), r.Metric?.ToString());
            Assert.Equal(Str(j, "protocol") ?? "boot", r.Protocol.ToString()!.ToLowerInvariant());
            Assert.Equal(Str(j, "scope") ?? "global", InterfaceAddress.ScopeName(r.Scope!.Value));
            Assert.Equal(j.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "onlink"), r.OnLink);
            if (j.TryGetProperty("nexthops", out var hops))
            {
                Assert.Equal(hops.EnumerateArray().Select(h => h.GetProperty("gateway").GetString()), r.NextHops.Select(h => h.Gateway?.ToString()));
                Assert.Equal(hops.EnumerateArray().Select(h => h.GetProperty("weight").GetInt32()), r.NextHops.Select(h => h.Weight));
                Assert.Equal(hops.EnumerateArray().Select(h => names[h.GetProperty("dev").GetString()!]), r.NextHops.Select(h => h.Interface!.Value.Index));
            }
            else
            {
                Assert.Empty(r.NextHops);
            }
        }
    }

    [Theory]
    [InlineData("rules-v4")]
    [InlineData("rules-v6")]
    public void DecodeRule_KernelDump_AgreesWithIproute(string name)
    {
        var (messages, json) = Load(name);
        var rules = Decode(messages, NetlinkMessageType.NewRule, m => RouteMessages.DecodeRule(m.Payload.Span));
        Assert.Equal(json.GetArrayLength(), rules.Count);
        foreach (var (j, r) in json.EnumerateArray().Zip(rules))
        {
            Assert.Equal(j.GetProperty("priority").GetInt64(), (long)r.Priority!.Value);
            var src = j.GetProperty("src").GetString();
            Assert.Equal(src == "all" ? null : src, r.From?.Address.ToString());
            if (r.From is IPPrefix from && from.PrefixLength != from.MaxPrefixLength)
            {
                Assert.Equal(j.GetProperty("srclen").GetInt32(), from.PrefixLength);
            }
            Assert.Equal(Str(j, "dst"), r.To?.Address.ToString());
            Assert.Equal(Str(j, "table"), r.Action == RuleAction.ToTable && !r.L3mdev ? RouteTable.Name(r.Table!.Value) : null);
            Assert.Equal(Str(j, "fwmark"), r.FirewallMark is uint m ? $"0x{m:x}" : null);
            Assert.Equal(Str(j, "fwmask"), r.FirewallMask is uint k ? $"0x{k:x}" : null);
            Assert.Equal(Str(j, "iif"), r.InputInterface);
            Assert.Equal(Str(j, "oif"), r.OutputInterface);
            Assert.Equal(Str(j, "goto"), r.GotoPriority?.ToString());
            Assert.Equal(j.TryGetProperty("not", out _), r.Invert);
            Assert.Equal(j.TryGetProperty("l3mdev", out _), r.L3mdev);
            // iproute2 prints a rule's protocol unless it is "kernel" (and without -d).
            Assert.Equal(Str(j, "protocol"), r.Protocol is RouteProtocol p && p is not (RouteProtocol.Unspecified or RouteProtocol.Kernel) ? p.ToString().ToLowerInvariant() : null);
        }
    }
}
