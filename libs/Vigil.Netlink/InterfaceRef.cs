namespace Vigil.Netlink;

/// <summary>
/// An interface named either by its index or by its name; requests accept both (a name is
/// resolved with RTM_GETLINK, as iproute2 does), and objects read from the kernel carry the index.
/// Converts implicitly from <c>int</c> and <c>string</c>, so <c>Interface = "eth0"</c> and
/// <c>Interface = 3</c> both work.
/// </summary>
public readonly record struct InterfaceRef
{
    /// <summary>Linux's IFNAMSIZ less the NUL.</summary>
    public const int MaxNameLength = 15;

    private InterfaceRef(int index, string? name)
    {
        Index = index;
        Name = name;
    }

    /// <summary>The interface index, or 0 when the interface was given by name and not resolved yet.</summary>
    public int Index { get; }

    /// <summary>The name, or null when the interface was given by index.</summary>
    public string? Name { get; }

    /// <summary>True when the index is known (given, or resolved from the name).</summary>
    public bool HasIndex => Index > 0;

    /// <summary>The same interface with its index filled in; the name stays for messages.</summary>
    public InterfaceRef WithIndex(int index)
    {
        if (index <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "interface index must be positive");
        }
        return new InterfaceRef(index, Name);
    }

    /// <summary>The index, or an exception saying the name must be resolved first.</summary>
    public int RequireIndex() => HasIndex
        ? Index
        : throw new InvalidOperationException(Name is null
            ? "no interface given"
            : $"interface '{Name}' has no index yet; resolve it first (Rtnetlink does this)");

    public static InterfaceRef FromIndex(int index)
    {
        if (index <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "interface index must be positive");
        }
        return new InterfaceRef(index, null);
    }

    public static InterfaceRef FromName(string name)
    {
        ValidateName(name);
        return new InterfaceRef(0, name);
    }

    /// <summary>Throws when the name cannot be an interface name: empty, over 15 bytes, or with
    /// '/', ':' or whitespace (the kernel's dev_valid_name; ':' is for address labels only).</summary>
    public static void ValidateName(string name, string what = "interface name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"{what} is empty");
        }
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameLength)
        {
            throw new ArgumentException($"{what} '{name}' is longer than {MaxNameLength} bytes");
        }
        if (name.Contains('/') || name.Contains(':') || name.Any(char.IsWhiteSpace) || name is "." or "..")
        {
            throw new ArgumentException($"{what} '{name}' contains characters Linux does not allow");
        }
    }

    public static implicit operator InterfaceRef(int index) => FromIndex(index);
    public static implicit operator InterfaceRef(string name) => FromName(name);

    /// <summary>"eth0", or "if3" for an index.</summary>
    public override string ToString() => Name ?? $"if{Index}";
}
