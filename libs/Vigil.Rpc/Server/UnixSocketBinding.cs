namespace Vigil.Rpc.Server;

/// <summary>
/// The life of a server's socket file. The listener is bound in a private (0700) directory beside
/// its final path, given its mode and group there, then renamed into place: it is never reachable
/// with a wider mode, and the process umask (which every other thread and every child started
/// meanwhile would inherit) is not touched. A stale socket left by a crash is replaced; a live
/// server's socket or a file that is not a socket is never touched.
/// </summary>
internal sealed class UnixSocketBinding(string socketPath, UnixFileMode mode, uint? group)
{
    private string? _staging;

    public string SocketPath => socketPath;

    /// <summary>Where the listener binds: inside the staging directory, or the final path when that would not fit in sun_path.</summary>
    public string BindPath => _staging is null ? socketPath : Path.Combine(_staging, "s");

    public void Prepare()
    {
        UnixSocketFile.PrepareForBind(socketPath);
        _staging = UnixSocketFile.CreateStagingDirectory(socketPath);
    }

    /// <summary>Runs <paramref name="listen"/> (which binds <see cref="BindPath"/>), then publishes the socket at its path.</summary>
    public async Task BindAsync(Func<Task> listen)
    {
        // A path too long to stage (sun_path holds 107 bytes) is bound in place under a narrowed
        // umask instead, which is process-wide for as long as the bind takes.
        uint? savedUmask = _staging is null ? UnixSocketFile.SetUmask((uint)(~(int)mode & 0x1FF)) : null;
        try
        {
            await listen();
        }
        finally
        {
            if (savedUmask is { } umask) UnixSocketFile.SetUmask(umask);
        }
        try
        {
            File.SetUnixFileMode(BindPath, mode);
            if (group is { } gid) UnixSocketFile.SetGroup(BindPath, gid);
            if (_staging is not null) UnixSocketFile.Rename(BindPath, socketPath);
        }
        finally
        {
            DeleteStaging();
        }
    }

    /// <summary>After a failed start: nothing of ours is left behind.</summary>
    public void Abandon() => DeleteStaging();

    /// <summary>After the listener closed: the socket file goes.</summary>
    public void Remove()
    {
        try { File.Delete(socketPath); } catch (IOException) { }
    }

    private void DeleteStaging()
    {
        if (_staging is null) return;
        try { Directory.Delete(_staging, recursive: true); } catch (IOException) { }
        _staging = null;
    }
}
