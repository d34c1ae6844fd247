using System.Globalization;
using System.Text.RegularExpressions;

namespace Vigil.Netlink.Tests.Support;

/// <summary>
/// One strace capture (<c>strace -f -e trace=sendmsg,sendto -e write=all -xx</c>) of a command:
/// the netlink messages it sent, taken from strace's hex dumps (" | 00000  34 00 ..."), each cut
/// to its nlmsg_len (iproute2 sends dump requests from a larger zeroed buffer).
/// </summary>
public sealed partial class StraceCapture
{
    private StraceCapture(string name, string command, IReadOnlyDictionary<string, int> indexes, IReadOnlyList<byte[]> messages, IReadOnlyList<byte[]> received)
    {
        Name = name;
        Command = command;
        InterfaceIndexes = indexes;
        Messages = messages;
        Received = received;
    }

    public string Name { get; }
    public string Command { get; }
    public IReadOnlyDictionary<string, int> InterfaceIndexes { get; }
    public IReadOnlyList<byte[]> Messages { get; }

    /// <summary>Whole datagrams the command received (recvmsg dumps), for decoder tests.</summary>
    public IReadOnlyList<byte[]> Received { get; }

    public static string FixtureDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static StraceCapture Load(string relativePath) =>
        Parse(Path.GetFileNameWithoutExtension(relativePath), File.ReadAllText(Path.Combine(FixtureDirectory, relativePath)));

    public static StraceCapture Parse(string name, string text)
    {
        var command = "";
        var indexes = new Dictionary<string, int>();
        var messages = new List<byte[]>();
        var received = new List<byte[]>();
        List<byte>? current = null;
        var receiving = false;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# command: ", StringComparison.Ordinal))
            {
                command = line["# command: ".Length..].Trim();
            }
            else if (line.StartsWith("# ifindex: ", StringComparison.Ordinal))
            {
                foreach (var pair in line["# ifindex: ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.LastIndexOf('=');
                    indexes[pair[..eq]] = int.Parse(pair[(eq + 1)..], CultureInfo.InvariantCulture);
                }
            }
            else if (SendCall().IsMatch(line))
            {
                Flush();
                current = [];
                receiving = false;
            }
            else if (RecvCall().IsMatch(line))
            {
                Flush();
                // libnl peeks (MSG_PEEK) before each real read; count every datagram once.
                current = line.Contains("MSG_PEEK", StringComparison.Ordinal) ? null : [];
                receiving = true;
            }
            else if (current is not null && HexLine().IsMatch(line))
            {
                // " | 00000  34 00 00 00 12 00 01 00  c9 76 02 6b 00 00 00 00  4....... |"
                // The hex area is 49 columns from column 10; the ASCII column may hold spaces.
                var hex = line.Substring(10, Math.Min(49, line.Length - 10));
                foreach (var token in hex.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    current.Add(byte.Parse(token, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
            else if (!line.StartsWith(" * ", StringComparison.Ordinal))
            {
                Flush();
            }
        }
        Flush();
        return new StraceCapture(name, command, indexes, messages, received);

        void Flush()
        {
            if (receiving && current is { Count: > 0 })
            {
                received.Add([.. current]);
            }
            else if (current is { Count: >= 16 })
            {
                var length = BitConverter.ToInt32([.. current.Take(4)]);
                messages.Add([.. current.Take(Math.Min(length, current.Count))]);
            }
            current = null;
        }
    }

    /// <summary>The messages of one netlink type, in the order sent.</summary>
    public IReadOnlyList<byte[]> OfType(ushort type) => Messages.Where(m => BitConverter.ToUInt16(m, 4) == type).ToList();

    /// <summary>The message with sequence number and port id zeroed, for comparison.</summary>
    public static byte[] WithoutSequence(byte[] message)
    {
        var copy = (byte[])message.Clone();
        Array.Clear(copy, 8, 8);
        return copy;
    }

    /// <summary>Hex in 16-byte rows, so a failing comparison shows where the bytes differ.</summary>
    public static string Hex(byte[] bytes) =>
        string.Join('\n', bytes.Chunk(16).Select((row, i) => $"{i * 16:x4}: {Convert.ToHexString(row).ToLowerInvariant()}"));

    [GeneratedRegex(@"^(\[pid +\d+\] )?(sendmsg|sendto)\(")]
    private static partial Regex SendCall();

    [GeneratedRegex(@"^(\[pid +\d+\] )?recvmsg\(")]
    private static partial Regex RecvCall();

    [GeneratedRegex(@"^ \| [0-9a-f]{5}  ")]
    private static partial Regex HexLine();
}
