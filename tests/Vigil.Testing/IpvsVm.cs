using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Vigil.Testing;

/// <summary>What a script run in an <see cref="IpvsVm"/> did.</summary>
/// <param name="ExitCode">The script's exit status.</param>
/// <param name="Output">Exactly what the script wrote (stdout and stderr together, in order).</param>
/// <param name="Console">The whole serial console: firmware, kernel, /init and the script.</param>
/// <param name="BootTime">From starting QEMU until the script started.</param>
/// <param name="Elapsed">From starting QEMU until it exited.</param>
public sealed record VmResult(int ExitCode, string Output, string Console, TimeSpan BootTime, TimeSpan Elapsed)
{
    public bool Ok => ExitCode == 0;

    public VmResult EnsureOk() => Ok
        ? this
        : throw new InvalidOperationException($"the VM script exited {ExitCode}; its output:\n{Output}");
}

/// <summary>
/// A QEMU VM running Debian's kernel, which has IPVS (the development machines' kernel does not),
/// after /work/shared/recipes/ipvs-vm.md. The host's root filesystem is shared read-only over 9p
/// and the guest chroots into it, so a guest script runs the host's own programs (ipvsadm, ip, the
/// project's out/ binaries). Each <see cref="RunAsync"/> boots a fresh VM (about 5 s, software
/// emulation) and powers it off when the script ends; runs are independent and may overlap.
/// Fails, never skips, when the machine lacks a package the VM needs.
/// </summary>
public sealed class IpvsVm
{
    /// <summary>Modules the VM loads, with their dependencies; the optional ones only if this kernel has them.</summary>
    private static readonly (string Name, bool Required)[] ModuleSpecs =
    [
        // The 9p share of the host's root over virtio-pci.
        ("virtio_pci", true), ("9pnet_virtio", true), ("9p", true),
        ("nf_conntrack", true), ("ip_vs", true),
        ("ip_vs_rr", true), ("ip_vs_wrr", true), ("ip_vs_lc", true), ("ip_vs_wlc", true),
        ("ip_vs_lblc", false), ("ip_vs_lblcr", false), ("ip_vs_dh", false), ("ip_vs_sh", false),
        ("ip_vs_sed", false), ("ip_vs_nq", false), ("ip_vs_fo", false), ("ip_vs_ovf", false),
        ("ip_vs_mh", false), ("ip_vs_twos", false),
        // Interfaces guest tests build: addresses on a dummy, veth pairs and bridges for traffic,
        // ipip for IPVS's tunnel forwarding.
        ("veth", true), ("bridge", true), ("dummy", true), ("ipip", false),
    ];

    private const string BusyboxPath = "/bin/busybox";
    private const string IpvsadmPath = "/usr/sbin/ipvsadm";

    private static readonly Lazy<Task<IpvsVm>> Shared = new(PrepareAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _qemu;

    private IpvsVm(string kernelVersion, string kernel, string initrd, IReadOnlyList<string> modules, string qemu)
    {
        KernelVersion = kernelVersion;
        Kernel = kernel;
        Initrd = initrd;
        Modules = modules;
        _qemu = qemu;
    }

    /// <summary>The guest kernel's version (a directory name under /lib/modules).</summary>
    public string KernelVersion { get; }

    /// <summary>The kernel booted: /boot/vmlinuz-VERSION uncompressed (cached beside the initramfs),
    /// or that file itself when it cannot be uncompressed.</summary>
    public string Kernel { get; }

    /// <summary>The initramfs (built once per test process, under /tmp/vigil-ipvs-vm-VERSION/).</summary>
    public string Initrd { get; }

    /// <summary>The modules /init loads, in load order (file names, e.g. "ip_vs.ko").</summary>
    public IReadOnlyList<string> Modules { get; }

    /// <summary>The VM of this test process: checks the machine and builds the initramfs on first use.</summary>
    public static Task<IpvsVm> GetAsync() => Shared.Value;

    /// <summary>
    /// Boots a VM, runs <paramref name="guestScript"/> with /bin/sh (the host's, inside the chroot)
    /// and powers the VM off. The guest has writable tmpfs /tmp and /run, loopback up, and
    /// $VM_SHARE: a host directory, fresh for this run and read-only in the guest, that
    /// <paramref name="populateShare"/> may fill (it gets the host path; the script itself is
    /// its script.sh). The script's stdin is /dev/null. Throws a TimeoutException (with the end of the console) when the VM has not
    /// finished within <paramref name="timeout"/>; QEMU is killed then.
    /// </summary>
    public async Task<VmResult> RunAsync(string guestScript, TimeSpan timeout, Func<string, Task>? populateShare = null, CancellationToken cancellationToken = default)
    {
        // Not under /tmp: the guest mounts its own tmpfs there, hiding the host's /tmp. 64 random
        // bits: concurrent runs never meet.
        var share = Path.Combine("/var/tmp", "vigil-vm-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant());
        Directory.CreateDirectory(share);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(share, "script.sh"), guestScript, cancellationToken);
            if (populateShare is not null) await populateShare(share);
            return await BootAsync(share, timeout, cancellationToken);
        }
        finally
        {
            try { Directory.Delete(share, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private async Task<VmResult> BootAsync(string share, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var marker = "VIGIL-VM-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var psi = new ProcessStartInfo(_qemu)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            // TCG, not KVM: KVM boots hang on these machines (recipe). The default CPU model boots
            // faster under TCG than -cpu max and runs the out/ programs.
            "-accel", "tcg", "-m", "1024", "-smp", "1",
            "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", Kernel, "-initrd", Initrd,
            "-append", $"console=ttyS0 quiet panic=-1 no_timer_check vigil_share={share} vigil_marker={marker}",
            "-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap",
        ];
        foreach (var a in args) psi.ArgumentList.Add(a);

        var console = new ConsoleBuffer(marker + "-BEGIN\n");
        var clock = Stopwatch.StartNew();
        using var qemu = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {_qemu}");
        qemu.StandardInput.Close();
        var stderrTask = qemu.StandardError.ReadToEndAsync(CancellationToken.None);
        var stdoutTask = console.ReadAllAsync(qemu.StandardOutput.BaseStream, clock);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await qemu.WaitForExitAsync(cts.Token);
            await stdoutTask.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Only this QEMU, by its pid: other tests' VMs run beside it.
            try { qemu.Kill(entireProcessTree: false); } catch (InvalidOperationException) { }
            await qemu.WaitForExitAsync(CancellationToken.None);
            if (cancellationToken.IsCancellationRequested) throw;
            throw new TimeoutException($"the VM did not finish within {timeout.TotalSeconds:0.#} s; console tail:\n{Tail(console.Text)}");
        }
        var elapsed = clock.Elapsed;
        var text = console.Text;
        var stderr = await stderrTask;

        var begin = text.IndexOf(marker + "-BEGIN\n", StringComparison.Ordinal);
        // "\n" before the end marker is /init's own (so output without a final newline stays exact).
        var end = text.LastIndexOf("\n" + marker + "-END ", StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            throw new InvalidOperationException($"the VM exited {qemu.ExitCode} before the script finished{(stderr.Length > 0 ? $" (qemu: {stderr.Trim()})" : "")}; console tail:\n{Tail(text)}");
        }
        var outputStart = begin + marker.Length + "-BEGIN\n".Length;
        var statusStart = end + marker.Length + "\n-END ".Length;
        var statusEnd = text.IndexOfAny(['\r', '\n'], statusStart) is var e && e >= 0 ? e : text.Length;
        var status = int.Parse(text.AsSpan(statusStart, statusEnd - statusStart), CultureInfo.InvariantCulture);
        return new VmResult(status, text[outputStart..Math.Max(outputStart, end)], text, console.BootTime ?? elapsed, elapsed);
    }

    private static string Tail(string text, int lines = 40) =>
        string.Join('\n', text.Replace("\r", "", StringComparison.Ordinal).Split('\n').TakeLast(lines));

    /// <summary>The console as it arrives; notes when the script's start marker went by (the boot time).</summary>
    private sealed class ConsoleBuffer(string startMarker)
    {
        private readonly StringBuilder _text = new();
        private readonly Lock _gate = new();

        public TimeSpan? BootTime { get; private set; }

        public string Text { get { lock (_gate) return _text.ToString(); } }

        public async Task ReadAllAsync(Stream stream, Stopwatch clock)
        {
            var decoder = Encoding.UTF8.GetDecoder();
            var bytes = new byte[16384];
            var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
            int n;
            while ((n = await stream.ReadAsync(bytes)) > 0)
            {
                var count = decoder.GetChars(bytes, 0, n, chars, 0);
                lock (_gate)
                {
                    var from = Math.Max(0, _text.Length - startMarker.Length);
                    _text.Append(chars, 0, count);
                    if (BootTime is null && _text.ToString(from, _text.Length - from).Contains(startMarker, StringComparison.Ordinal)) BootTime = clock.Elapsed;
                }
            }
        }
    }

    private static async Task<IpvsVm> PrepareAsync()
    {
        var qemu = FindProgram("qemu-system-x86_64") ?? throw Missing("qemu-system-x86_64", "qemu-system-x86");
        if (!File.Exists(BusyboxPath)) throw Missing(BusyboxPath, "busybox-static");
        // Debian's dynamic busybox installs the same path; the initramfs has no libc to run it.
        if (!IsStaticElf(BusyboxPath)) throw new InvalidOperationException($"{BusyboxPath} is dynamically linked: install busybox-static (apt-get install busybox-static), which replaces the package busybox");
        if (!File.Exists(IpvsadmPath)) throw Missing(IpvsadmPath, "ipvsadm");
        var modprobe = FindProgram("modprobe") ?? throw Missing("modprobe", "kmod");

        var version = FindKernelVersion();
        var modules = await ResolveModulesAsync(modprobe, version);
        var kernel = await UncompressedKernelAsync(version) ?? $"/boot/vmlinuz-{version}";
        var initrd = await BuildInitrdAsync(version, modules);
        return new IpvsVm(version, kernel, initrd, [.. modules.Select(m => Path.GetFileName(m.ArchiveName))], qemu);
    }

    private static InvalidOperationException Missing(string what, string package) =>
        new($"the IPVS VM needs {what}: install the package {package} (apt-get install {package})");

    /// <summary>The newest kernel with both modules and an image (the host's own has no IPVS).</summary>
    private static string FindKernelVersion()
    {
        var versions = Directory.Exists("/lib/modules")
            ? Directory.GetDirectories("/lib/modules").Select(Path.GetFileName).OfType<string>()
                .Where(v => File.Exists($"/boot/vmlinuz-{v}") && Directory.Exists($"/lib/modules/{v}/kernel")).ToList()
            : [];
        if (versions.Count == 0)
        {
            throw new InvalidOperationException("the IPVS VM needs a kernel image /boot/vmlinuz-V with modules in /lib/modules/V: install the package linux-image-amd64 (apt-get install linux-image-amd64)");
        }
        versions.Sort(CompareVersions);
        return versions[^1];
    }

    /// <summary>Compares numbers in versions as numbers ("6.10" after "6.9").</summary>
    private static int CompareVersions(string a, string b)
    {
        static IEnumerable<string> Parts(string v) => System.Text.RegularExpressions.Regex.Split(v, @"(\d+)").Where(p => p.Length > 0);
        using var x = Parts(a).GetEnumerator();
        using var y = Parts(b).GetEnumerator();
        while (true)
        {
            bool hasX = x.MoveNext(), hasY = y.MoveNext();
            if (!hasX || !hasY) return hasX.CompareTo(hasY);
            var c = ulong.TryParse(x.Current, out var nx) && ulong.TryParse(y.Current, out var ny)
                ? nx.CompareTo(ny)
                : string.CompareOrdinal(x.Current, y.Current);
            if (c != 0) return c;
        }
    }

    private sealed record ModuleFile(string Source, string ArchiveName, string Options);

    /// <summary>The modules with their dependencies in load order, as modprobe would insmod them
    /// (busybox insmod resolves nothing itself); modprobe's configured options are kept.</summary>
    private static async Task<List<ModuleFile>> ResolveModulesAsync(string modprobe, string version)
    {
        var result = new List<ModuleFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, required) in ModuleSpecs)
        {
            var r = await Shell.RunAsync(modprobe, "-S", version, "--show-depends", name);
            if (!r.Ok)
            {
                if (!required) continue;
                throw new InvalidOperationException($"kernel {version} has no module {name} ({r.Stderr.Trim()}): reinstall the package linux-image-amd64");
            }
            foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                // "builtin NAME" needs nothing; "insmod PATH [OPTIONS]" is one module to load.
                if (!line.StartsWith("insmod ", StringComparison.Ordinal)) continue;
                var rest = line["insmod ".Length..].Trim();
                var space = rest.IndexOf(' ');
                var path = space < 0 ? rest : rest[..space];
                var options = space < 0 ? "" : rest[(space + 1)..].Trim();
                if (!seen.Add(path)) continue;
                var file = Path.GetFileName(path);
                var archiveName = "modules/" + (file.EndsWith(".ko", StringComparison.Ordinal) ? file : file[..(file.LastIndexOf(".ko", StringComparison.Ordinal) + 3)]);
                result.Add(new ModuleFile(path, archiveName, options));
            }
        }
        return result;
    }

    /// <summary>
    /// Builds the initramfs unless this process already did: a file named after a hash of its
    /// contents' sources, so processes share a build while it is current and a changed module set
    /// or /init never meets a stale one. Written aside and renamed into place.
    /// </summary>
    private static async Task<string> BuildInitrdAsync(string version, List<ModuleFile> modules)
    {
        var loadOrder = string.Concat(modules.Select(m => $"{Path.GetFileName(m.ArchiveName)} {m.Options}".TrimEnd() + "\n"));
        var key = new StringBuilder(InitScript).Append(loadOrder);
        foreach (var source in modules.Select(m => m.Source).Append(BusyboxPath))
        {
            var info = new FileInfo(source);
            key.Append(CultureInfo.InvariantCulture, $"{source} {info.Length} {info.LastWriteTimeUtc.Ticks}\n");
        }
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..16].ToLowerInvariant();
        var dir = Path.Combine("/tmp", $"vigil-ipvs-vm-{version}");
        Directory.CreateDirectory(dir);
        var initrd = Path.Combine(dir, $"initrd-{hash}.gz");
        if (File.Exists(initrd)) return initrd;

        var temp = $"{initrd}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        try
        {
            await using (var file = File.Create(temp))
            await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
            {
                var cpio = new CpioWriter(gzip);
                foreach (var d in new[] { "bin", "dev", "proc", "sys", "host", "modules" }) cpio.Directory(d);
                // Init's stdin/stdout/stderr: the kernel opens /dev/console before devtmpfs is mounted.
                cpio.CharDevice("dev/console", 5, 1);
                cpio.File("bin/busybox", await File.ReadAllBytesAsync(BusyboxPath), executable: true);
                foreach (var applet in new[] { "sh", "mount", "mkdir", "insmod", "chroot", "cat", "echo", "ip", "stty", "poweroff" })
                {
                    cpio.Symlink($"bin/{applet}", "busybox");
                }
                foreach (var m in modules) cpio.File(m.ArchiveName, await ReadModuleAsync(m.Source), executable: false);
                cpio.File("modules/load-order", Encoding.UTF8.GetBytes(loadOrder), executable: false);
                cpio.File("init", Encoding.UTF8.GetBytes(InitScript), executable: true);
                cpio.Trailer();
            }
            File.Move(temp, initrd, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        return initrd;
    }

    /// <summary>A module file, decompressed when the distribution ships .ko.xz / .ko.zst (busybox
    /// insmod hands the bytes to the kernel as they are).</summary>
    private static async Task<byte[]> ReadModuleAsync(string path)
    {
        var data = await File.ReadAllBytesAsync(path);
        if (path.EndsWith(".ko", StringComparison.Ordinal)) return data;
        var (tool, package) = path.EndsWith(".ko.xz", StringComparison.Ordinal) ? ("xz", "xz-utils")
            : path.EndsWith(".ko.zst", StringComparison.Ordinal) ? ("zstd", "zstd")
            : path.EndsWith(".ko.gz", StringComparison.Ordinal) ? ("gzip", "gzip")
            : throw new InvalidOperationException($"unknown module format: {path}");
        var (exit, output) = await DecompressAsync(FindProgram(tool) ?? throw Missing(tool, package), data);
        return exit == 0 ? output : throw new InvalidOperationException($"{tool} -dc {path} exited {exit}");
    }

    /// <summary>
    /// The kernel as an ELF file QEMU boots directly (PVH entry), or null when it cannot be had.
    /// Decompressing the bzImage under emulation takes about 3.5 s of each boot, half of it; done
    /// once here, on the host, it takes under a second.
    /// </summary>
    private static async Task<string?> UncompressedKernelAsync(string version)
    {
        var bzImage = $"/boot/vmlinuz-{version}";
        var info = new FileInfo(bzImage);
        var dir = Path.Combine("/tmp", $"vigil-ipvs-vm-{version}");
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, $"vmlinux-{info.Length}-{info.LastWriteTimeUtc.Ticks}");
        if (File.Exists(target)) return target;

        var image = await File.ReadAllBytesAsync(bzImage);
        // The payload's compression, by its magic (the kernel's scripts/extract-vmlinux does the same).
        (byte[] Magic, string Tool)[] formats =
        [
            ([0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00], "xz"),
            ([0x28, 0xb5, 0x2f, 0xfd], "zstd"),
            ([0x1f, 0x8b, 0x08], "gzip"),
        ];
        foreach (var (magic, tool) in formats)
        {
            var at = image.AsSpan().IndexOf(magic);
            if (at < 0 || FindProgram(tool) is not string program) continue;
            // Trailing bytes after the stream make the tools complain; the output is judged instead.
            var (_, elf) = await DecompressAsync(program, image[at..]);
            if (!HasPvhNote(elf)) continue;
            var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}";
            try
            {
                await File.WriteAllBytesAsync(temp, elf);
                File.Move(temp, target, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }
            return target;
        }
        return null;
    }

    /// <summary>Runs "TOOL -dc" on the bytes (fed through stdin, read back concurrently).</summary>
    private static async Task<(int Exit, byte[] Output)> DecompressAsync(string program, byte[] input)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-dc");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        using var output = new MemoryStream();
        var read = p.StandardOutput.BaseStream.CopyToAsync(output);
        var errors = p.StandardError.ReadToEndAsync();
        try
        {
            await p.StandardInput.BaseStream.WriteAsync(input);
            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool stopped reading after its stream ended: what it wrote is what counts.
        }
        await read;
        await errors;
        await p.WaitForExitAsync();
        return (p.ExitCode, output.ToArray());
    }

    /// <summary>True for a 64-bit ELF with Xen's PHYS32_ENTRY note: QEMU's -kernel boots it by PVH.</summary>
    private static bool HasPvhNote(byte[] elf)
    {
        const uint PtNote = 4, XenElfnotePhys32Entry = 18;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2) return false;
        var phoff = (long)BitConverter.ToUInt64(elf, 0x20);
        var phentsize = BitConverter.ToUInt16(elf, 0x36);
        var phnum = BitConverter.ToUInt16(elf, 0x38);
        for (var i = 0; i < phnum; i++)
        {
            var ph = phoff + (long)i * phentsize;
            if (ph + 56 > elf.Length) return false;
            if (BitConverter.ToUInt32(elf, (int)ph) != PtNote) continue;
            var offset = (long)BitConverter.ToUInt64(elf, (int)ph + 8);
            var end = offset + (long)BitConverter.ToUInt64(elf, (int)ph + 32);
            if (end > elf.Length) return false;
            while (offset + 12 <= end)
            {
                var nameSize = BitConverter.ToUInt32(elf, (int)offset);
                var descSize = BitConverter.ToUInt32(elf, (int)offset + 4);
                var type = BitConverter.ToUInt32(elf, (int)offset + 8);
                var name = Encoding.ASCII.GetString(elf, (int)offset + 12, (int)Math.Min(nameSize, (uint)Math.Max(0, end - offset - 12))).TrimEnd('\0');
                if (name == "Xen" && type == XenElfnotePhys32Entry) return true;
                offset += 12 + ((nameSize + 3) & ~3u) + ((descSize + 3) & ~3u);
            }
        }
        return false;
    }

    private static string? FindProgram(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>True when the ELF file has no program interpreter (PT_INTERP), i.e. needs no ld.so.</summary>
    private static bool IsStaticElf(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2) return false;
        var phoff = (long)BitConverter.ToUInt64(elf, 0x20);
        var phentsize = BitConverter.ToUInt16(elf, 0x36);
        var phnum = BitConverter.ToUInt16(elf, 0x38);
        for (var i = 0; i < phnum; i++)
        {
            var at = phoff + (long)i * phentsize;
            if (at + 4 > elf.Length) return false;
            if (BitConverter.ToUInt32(elf, (int)at) == 3) return false;
        }
        return true;
    }

    /// <summary>
    /// /init: busybox until the chroot into the host's files. The run's share directory and marker
    /// come on the kernel command line. Kernel messages go quiet before the script, which would
    /// otherwise interleave with its output; stty -onlcr keeps that output byte for byte.
    /// </summary>
    private const string InitScript = """
        #!/bin/sh
        export PATH=/bin
        mount -t proc proc /proc
        mount -t sysfs sys /sys
        mount -t devtmpfs dev /dev
        stty -onlcr
        while read -r ko options; do
          insmod "/modules/$ko" $options || echo "vigil-vm: insmod $ko failed"
        done < /modules/load-order
        for arg in $(cat /proc/cmdline); do
          case "$arg" in
            vigil_share=*) share=${arg#vigil_share=} ;;
            vigil_marker=*) marker=${arg#vigil_marker=} ;;
          esac
        done
        if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro host /host; then
          echo "vigil-vm: cannot mount the host's root over 9p"
          poweroff -f
        fi
        mount -t proc proc /host/proc
        mount -t sysfs sys /host/sys
        mount -t devtmpfs dev /host/dev
        mkdir -p /host/dev/pts /host/dev/shm
        mount -t devpts devpts /host/dev/pts
        mount -t tmpfs shm /host/dev/shm
        mount -t tmpfs tmp /host/tmp
        mount -t tmpfs run /host/run
        ip link set lo up
        echo 1 > /proc/sys/kernel/printk
        echo "$marker-BEGIN"
        chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp \
          VM_SHARE="$share" /bin/sh "$share/script.sh" < /dev/null 2>&1
        status=$?
        echo
        echo "$marker-END $status"
        poweroff -f

        """;

    /// <summary>The "newc" cpio format the kernel unpacks an initramfs from.</summary>
    private sealed class CpioWriter(Stream stream)
    {
        private int _inode = 1;
        private long _written;

        public void Directory(string name) => Entry(name, Convert.ToUInt32("040755", 8), [], 2);

        public void File(string name, byte[] data, bool executable) =>
            Entry(name, Convert.ToUInt32(executable ? "100755" : "100644", 8), data);

        public void Symlink(string name, string target) => Entry(name, Convert.ToUInt32("120777", 8), Encoding.UTF8.GetBytes(target));

        public void CharDevice(string name, int major, int minor) =>
            Entry(name, Convert.ToUInt32("020600", 8), [], rdevMajor: major, rdevMinor: minor);

        public void Trailer() => Entry("TRAILER!!!", 0, [], 1, inode: 0);

        private void Entry(string name, uint mode, byte[] data, int nlink = 1, int rdevMajor = 0, int rdevMinor = 0, int? inode = null)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var header = string.Create(CultureInfo.InvariantCulture,
                $"070701{inode ?? _inode++:x8}{mode:x8}{0:x8}{0:x8}{nlink:x8}{0:x8}{data.Length:x8}{0:x8}{0:x8}{rdevMajor:x8}{rdevMinor:x8}{nameBytes.Length + 1:x8}{0:x8}");
            Write(Encoding.ASCII.GetBytes(header));
            Write(nameBytes);
            Write([0]);
            Pad();
            Write(data);
            Pad();
        }

        private void Write(byte[] bytes)
        {
            stream.Write(bytes);
            _written += bytes.Length;
        }

        private void Pad()
        {
            while (_written % 4 != 0) Write([0]);
        }
    }
}
