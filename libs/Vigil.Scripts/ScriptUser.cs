using System.Text;

namespace Vigil.Scripts;

/// <summary>
/// The user (and optional group) a script runs as: keepalived's <c>user USERNAME [GROUPNAME]</c>
/// on scripts and <c>script_user</c> in global_defs. Without a group the user's primary group is
/// used; supplementary groups are the user's (initgroups), like keepalived.
/// </summary>
public sealed record ScriptUser(string Name, string? Group = null)
{
    public override string ToString() => Group is null ? Name : $"{Name}:{Group}";

    /// <summary>Parses keepalived's forms "user", "user group" and "user:group".</summary>
    public static ScriptUser Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Length switch
        {
            1 => new ScriptUser(parts[0]),
            2 => new ScriptUser(parts[0], parts[1]),
            _ => throw new FormatException($"script user '{text}' must be USER or USER:GROUP"),
        };
    }

    /// <summary>Looks the user and group up in the system databases.</summary>
    /// <exception cref="ArgumentException">The user or group does not exist.</exception>
    public ResolvedScriptUser Resolve()
    {
        var (uid, primaryGid) = LookupUser(Name)
            ?? throw new ArgumentException($"script user '{Name}' does not exist");
        var gid = primaryGid;
        if (Group is not null)
        {
            gid = LookupGroup(Group) ?? throw new ArgumentException($"script group '{Group}' does not exist");
        }
        return new ResolvedScriptUser(Name, uid, gid);
    }

    private static unsafe (uint Uid, uint Gid)? LookupUser(string name)
    {
        if (uint.TryParse(name, out var numeric))
        {
            return LookupUid(numeric);
        }
        var pwd = stackalloc byte[256];
        var buffer = new byte[16384];
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* n = nameBytes)
        fixed (byte* b = buffer)
        {
            void* result;
            var rc = Native.getpwnam_r(n, pwd, b, (nuint)buffer.Length, &result);
            if (rc != 0 || result == null) return null;
            // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
            var ids = (uint*)(pwd + 2 * IntPtr.Size);
            return (ids[0], ids[1]);
        }
    }

    private static unsafe (uint Uid, uint Gid)? LookupUid(uint uid)
    {
        var pwd = stackalloc byte[256];
        var buffer = new byte[16384];
        fixed (byte* b = buffer)
        {
            void* result;
            var rc = Native.getpwuid_r(uid, pwd, b, (nuint)buffer.Length, &result);
            if (rc != 0 || result == null) return null;
            var ids = (uint*)(pwd + 2 * IntPtr.Size);
            return (ids[0], ids[1]);
        }
    }

    private static unsafe uint? LookupGroup(string name)
    {
        if (uint.TryParse(name, out var numeric)) return numeric;
        var grp = stackalloc byte[256];
        var buffer = new byte[65536];
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* n = nameBytes)
        fixed (byte* b = buffer)
        {
            void* result;
            var rc = Native.getgrnam_r(n, grp, b, (nuint)buffer.Length, &result);
            if (rc != 0 || result == null) return null;
            // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
            return *(uint*)(grp + 2 * IntPtr.Size);
        }
    }
}

/// <summary>A script user with numeric ids.</summary>
public sealed record ResolvedScriptUser(string Name, uint Uid, uint Gid);
