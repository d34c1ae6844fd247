using System.Net.Sockets;
using Vigil.Rpc.Client;
using Vigil.Rpc.Server;
using Vigil.Rpc.Tests.Conformance;
using Vigil.Testing;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests;

/// <summary>The socket file: its mode, stale files, and who may call.</summary>
public sealed class SocketFileTests
{
    private static UnixGrpcServer NewServer(string socketPath)
    {
        var server = new UnixGrpcServer(new UnixGrpcServerOptions { SocketPath = socketPath });
        server.AddService(new TestEchoService(), EchoService.Descriptor.FullName);
        return server;
    }

    [Fact]
    public async Task Start_SocketMode_Is0660()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(server.SocketPath));
        Assert.True(UnixSocketFile.IsSocket(server.SocketPath));
    }

    [Fact]
    public async Task Start_NeverTouchesTheProcessUmask_AndLeavesOnlyTheSocketBehind()
    {
        // The umask is process-wide: a server that narrowed it while starting made files created
        // meanwhile by other threads (and by children they started) unreadable to others.
        static string Umask() => File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("Umask:", StringComparison.Ordinal));
        var before = Umask();
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) seen.Add(Umask());
        });
        var dir = Directory.CreateTempSubdirectory("vigil-umask-").FullName;
        for (var i = 0; i < 5; i++)
        {
            await using var server = NewServer(Path.Combine(dir, $"s{i}.sock"));
            await server.StartAsync();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(server.SocketPath));
            using var channel = UnixChannel.Open(server.SocketPath);
            Assert.Equal("x", (await TestServer.Client(channel).EchoAsync(new EchoRequest { Message = "x" })).Message);
        }
        stop.Cancel();
        await watcher;
        Assert.True(seen.Count > 0);
        Assert.All(seen.Distinct(), u => Assert.Equal(before, u));
        Assert.Empty(Directory.GetFileSystemEntries(dir)); // no staging directory left, sockets removed on stop
        Directory.Delete(dir);
    }

    [Fact]
    public async Task Start_PathTooLongToStage_BoundInPlaceWithItsModeAndServes()
    {
        // A socket path that fits sun_path (107 bytes) but leaves no room for the staging directory.
        var dir = Directory.CreateTempSubdirectory("vigil-long-").FullName;
        var path = Path.Combine(dir, new string('s', 104 - dir.Length - 1 - ".sock".Length) + ".sock");
        Assert.Equal(104, System.Text.Encoding.UTF8.GetByteCount(path));
        await using (var server = NewServer(path))
        {
            await server.StartAsync();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(path));
            Assert.Equal([path], Directory.GetFileSystemEntries(dir));
            using var channel = UnixChannel.Open(path);
            Assert.Equal("x", (await TestServer.Client(channel).EchoAsync(new EchoRequest { Message = "x" })).Message);
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Start_StaleSocketFile_Replaced()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-stale-").FullName;
        var path = Path.Combine(dir, "s.sock");
        // A socket file whose server is gone (bound, then the process exited without unlinking it;
        // .NET would unlink on dispose, so another program leaves it behind).
        (await Shell.RunAsync(RepoPaths.DebianPython, "-c", $"import socket; socket.socket(socket.AF_UNIX).bind('{path}')")).EnsureOk();
        Assert.True(File.Exists(path));
        await using var server = NewServer(path);
        await server.StartAsync();
        using var channel = UnixChannel.Open(path);
        Assert.Equal("x", (await TestServer.Client(channel).EchoAsync(new EchoRequest { Message = "x" })).Message);
        await server.StopAsync();
        Assert.False(File.Exists(path), "the socket file is removed on stop");
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Start_LiveServerOnPath_RefusedAndLiveServerUntouched()
    {
        await using var live = await TestServer.StartAsync();
        await using var second = NewServer(live.SocketPath);
        var e = await Assert.ThrowsAsync<IOException>(() => second.StartAsync());
        Assert.Contains("already listening", e.Message);
        using var channel = live.Channel();
        Assert.Equal("alive", (await TestServer.Client(channel).EchoAsync(new EchoRequest { Message = "alive" })).Message);
    }

    [Fact]
    public async Task Start_RegularFileOnPath_RefusedAndFileKept()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-file-").FullName;
        var path = Path.Combine(dir, "not-a-socket");
        await File.WriteAllTextAsync(path, "precious");
        await using var server = NewServer(path);
        var e = await Assert.ThrowsAsync<IOException>(() => server.StartAsync());
        Assert.Contains("not a socket", e.Message);
        Assert.Equal("precious", await File.ReadAllTextAsync(path));
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task PeerCredentials_OwnProcess_Seen()
    {
        PeerCredentials? seen = null;
        await using var server = await TestServer.StartAsync(authorize: p => { seen = p; return true; });
        using var channel = server.Channel();
        await TestServer.Client(channel).EchoAsync(new EchoRequest());
        Assert.NotNull(seen);
        Assert.Equal(Environment.ProcessId, seen!.Pid);
    }

    /// <summary>A process of another user, not in the socket's group, gets PERMISSION_DENIED
    /// (the socket is opened to everyone for this test, so only SO_PEERCRED stands in the way);
    /// the same user with the socket's group as a supplementary group is served.</summary>
    [Fact]
    [Trait("Category", "Conformance")]
    public async Task OtherUser_NotInGroup_PermissionDenied_InGroup_Served()
    {
        Assert.True(Environment.UserName == "root", "this test needs root (it runs a peer as user nobody)");
        var dir = Directory.CreateTempSubdirectory("vigil-perm-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        const uint group = 4242; // a group nobody is in
        await using var server = new UnixGrpcServer(new UnixGrpcServerOptions
        {
            SocketPath = Path.Combine(dir, "p.sock"),
            SocketMode = (UnixFileMode)0b110_110_110,
            SocketGroup = group,
        });
        server.AddService(new TestEchoService(), EchoService.Descriptor.FullName);
        await server.StartAsync();

        var denied = await PythonPeer.RunClientCaseAsync(server.SocketPath, "unary", ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
        Assert.False(denied.Ok);
        Assert.True((denied.Stdout + denied.Stderr).Contains("PERMISSION_DENIED"), "expected PERMISSION_DENIED:\n" + denied.Stdout + denied.Stderr);

        var allowed = await PythonPeer.RunClientCaseAsync(server.SocketPath, "unary", ["--reuid=nobody", "--regid=nogroup", $"--groups={group}"]);
        Assert.True(allowed.Ok, allowed.Stdout + allowed.Stderr);
        Directory.Delete(dir, true);
    }
}
