using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vigil.Rpc.Server;

/// <summary>Who is on the other end of a Unix socket connection (SO_PEERCRED), plus their groups.</summary>
public sealed record PeerCredentials(int Pid, uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static PeerCredentials? FromSocket(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) < 12) return null;
        }
        catch (SocketException)
        {
            return null;
        }
        var pid = MemoryMarshal.Read<int>(ucred);
        var uid = MemoryMarshal.Read<uint>(ucred[4..]);
        var gid = MemoryMarshal.Read<uint>(ucred[8..]);
        return new PeerCredentials(pid, uid, gid, ReadGroups(pid, gid));
    }

    /// <summary>The peer process's supplementary groups from /proc (its primary group when unreadable).</summary>
    private static IReadOnlyList<uint> ReadGroups(int pid, uint gid)
    {
        var groups = new List<uint> { gid };
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("Groups:", StringComparison.Ordinal)) continue;
                foreach (var g in line["Groups:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                {
                    if (uint.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && !groups.Contains(v)) groups.Add(v);
                }
                break;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return groups;
    }

    public bool IsInGroup(uint group) => Gid == group || Groups.Contains(group);

    public override string ToString() => $"pid {Pid} uid {Uid} gid {Gid}";
}
