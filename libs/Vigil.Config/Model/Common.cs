using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;

namespace Vigil.Config.Model;

/// <summary>An address with a prefix length ("10.0.0.1/24"); a host address has the full length.</summary>
[JsonConverter(typeof(IpPrefixJsonConverter))]
public readonly record struct IpPrefix(IPAddress Address, int PrefixLength)
{
    public AddressFamily Family => Address.AddressFamily;

    public bool IsHost => PrefixLength == (Address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);

    public static IpPrefix Host(IPAddress address) =>
        new(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);

    public override string ToString() => $"{Address}/{PrefixLength}";
}

/// <summary>
/// A script keepalived would run: the command as written (quotes removed, for "/bin/sh -c" when it
/// is not a path to an executable), its words, and the user and group to run it as (null: the
/// global script_user, or keepalived_script, or root).
/// </summary>
public sealed record ScriptSpec
{
    public required string CommandLine { get; init; }

    public EquatableArray<string> Args { get; init; }

    public string? User { get; init; }

    public string? Group { get; init; }
}

/// <summary>A notify FIFO (global, VRRP or LVS) and the optional script that reads it.</summary>
public sealed record NotifyFifo
{
    public required string Path { get; init; }

    public string? User { get; init; }

    public string? Group { get; init; }

    public ScriptSpec? Script { get; init; }
}

/// <summary>A tracked interface with its weight (0: the instance goes FAULT when it is down).</summary>
public sealed record TrackedInterface(string Name, int Weight, bool Reverse);

/// <summary>A reference to a vrrp_script, track_file, vrrp_track_process or bfd_instance, with its weight.</summary>
public sealed record TrackedObject(string Name, int Weight, bool Reverse);
