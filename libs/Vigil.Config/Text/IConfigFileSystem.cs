namespace Vigil.Config.Text;

/// <summary>
/// The files a configuration is read from. Paths are absolute Unix paths; tests use an in-memory
/// tree or a directory standing in for "/".
/// </summary>
public interface IConfigFileSystem
{
    /// <summary>The directory relative paths on the command line are resolved against.</summary>
    string CurrentDirectory { get; }

    bool FileExists(string path);

    bool DirectoryExists(string path);

    /// <summary>Names (not paths) of the entries of a directory; empty if it cannot be read.</summary>
    IEnumerable<string> EnumerateEntries(string directory);

    /// <summary>True if any execute bit is set (keepalived refuses executable config files).</summary>
    bool IsExecutable(string path);

    /// <summary>The file's bytes; throws IOException or UnauthorizedAccessException.</summary>
    byte[] ReadAllBytes(string path);
}

/// <summary>The machine's files, optionally below a root directory that stands in for "/".</summary>
public sealed class PhysicalFileSystem : IConfigFileSystem
{
    private readonly string? _root;

    /// <param name="root">A directory that stands in for "/", or null for the real root.</param>
    public PhysicalFileSystem(string? root = null, string? currentDirectory = null)
    {
        _root = string.IsNullOrEmpty(root) ? null : Path.GetFullPath(root).TrimEnd('/');
        CurrentDirectory = currentDirectory ?? (_root is null ? Directory.GetCurrentDirectory() : "/");
    }

    public static PhysicalFileSystem Instance { get; } = new();

    public string CurrentDirectory { get; }

    private string Map(string path) => _root is null ? path : _root + (path.StartsWith('/') ? path : "/" + path);

    public bool FileExists(string path) => File.Exists(Map(path));

    public bool DirectoryExists(string path) => Directory.Exists(Map(path));

    public IEnumerable<string> EnumerateEntries(string directory)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(Map(directory)).Select(p => Path.GetFileName(p)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public bool IsExecutable(string path)
    {
        try
        {
            var mode = File.GetUnixFileMode(Map(path));
            return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public byte[] ReadAllBytes(string path) => File.ReadAllBytes(Map(path));
}

/// <summary>Files held in memory (tests, and configurations received over the API).</summary>
public sealed class InMemoryFileSystem : IConfigFileSystem
{
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _executables = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "/" };

    public InMemoryFileSystem(string currentDirectory = "/") => CurrentDirectory = currentDirectory;

    public string CurrentDirectory { get; }

    /// <summary>Adds (or replaces) a file; parent directories are created.</summary>
    public InMemoryFileSystem Add(string path, string text, bool executable = false) =>
        Add(path, System.Text.Encoding.UTF8.GetBytes(text), executable);

    /// <summary>Adds (or replaces) a file with exactly these bytes; parent directories are created.</summary>
    public InMemoryFileSystem Add(string path, byte[] content, bool executable = false)
    {
        path = ConfigPath.Normalize(path);
        _files[path] = content;
        if (executable) _executables.Add(path); else _executables.Remove(path);
        for (var dir = ConfigPath.DirectoryOf(path); ; dir = ConfigPath.DirectoryOf(dir))
        {
            _directories.Add(dir);
            if (dir == "/") break;
        }
        return this;
    }

    public InMemoryFileSystem AddDirectory(string path)
    {
        path = ConfigPath.Normalize(path);
        for (var dir = path; ; dir = ConfigPath.DirectoryOf(dir))
        {
            _directories.Add(dir);
            if (dir == "/") break;
        }
        return this;
    }

    public bool FileExists(string path) => _files.ContainsKey(ConfigPath.Normalize(path));

    public bool DirectoryExists(string path) => _directories.Contains(ConfigPath.Normalize(path));

    public IEnumerable<string> EnumerateEntries(string directory)
    {
        var dir = ConfigPath.Normalize(directory);
        var prefix = dir == "/" ? "/" : dir + "/";
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in _files.Keys.Concat(_directories))
        {
            if (path.Length > prefix.Length && path.StartsWith(prefix, StringComparison.Ordinal) && path.IndexOf('/', prefix.Length) < 0)
            {
                names.Add(path[prefix.Length..]);
            }
        }
        return names;
    }

    public bool IsExecutable(string path) => _executables.Contains(ConfigPath.Normalize(path));

    public byte[] ReadAllBytes(string path) =>
        _files.TryGetValue(ConfigPath.Normalize(path), out var bytes) ? bytes : throw new FileNotFoundException("No such file or directory", path);
}

/// <summary>Unix path helpers that do not depend on the machine the code runs on.</summary>
internal static class ConfigPath
{
    public static string Combine(string directory, string path) =>
        path.StartsWith('/') ? path : directory.EndsWith('/') ? directory + path : directory + "/" + path;

    /// <summary>Removes ".", "..", and repeated slashes (lexically, like keepalived's paths after chdir).</summary>
    public static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    public static string DirectoryOf(string path)
    {
        var i = path.TrimEnd('/').LastIndexOf('/');
        return i <= 0 ? "/" : path[..i];
    }
}
