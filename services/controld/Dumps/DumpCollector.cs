using Vigil.Control.V1;
using Vigil.Hosting;

namespace Vigil.Controld.Dumps;

/// <summary>
/// Gathers the planes' state over gRPC for a dump (DumpState, SIGUSR1/SIGUSR2/SIGJSON) and
/// writes the files where keepalived does: its tmp_dir ($TMPDIR, else /tmp), or --dump-dir.
/// </summary>
internal sealed class DumpCollector(Controller controller)
{
    private static readonly TimeSpan PlaneDeadline = TimeSpan.FromSeconds(2);

    public static string FileName(DumpFormat format) => format switch
    {
        DumpFormat.Data => StateDump.DataFile,
        DumpFormat.Stats => StateDump.StatsFile,
        DumpFormat.Json => StateDump.JsonFile,
        _ => throw new InvalidArgumentException("format", "one of data, stats or json is required"),
    };

    public async Task<string> RenderAsync(DumpFormat format, CancellationToken cancellationToken)
    {
        FileName(format);
        var instances = await controller.CurrentInstancesAsync(cancellationToken);
        if (format == DumpFormat.Stats) return StateDump.Stats(instances);
        if (format == DumpFormat.Json) return StateDump.Json(instances);
        var unavailable = new List<string>();
        var virtualServers = await controller.CurrentVirtualServersAsync(unavailable, PlaneDeadline, cancellationToken);
        return StateDump.Data(instances, virtualServers, unavailable, controller.Options.ConfigFile);
    }

    /// <summary>Writes the dump's file (replacing it whole, so a reader never sees half of it); returns its path.</summary>
    public async Task<string> WriteAsync(DumpFormat format, CancellationToken cancellationToken)
    {
        var text = await RenderAsync(format, cancellationToken);
        var dir = controller.Options.DumpDirectory;
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName(format));
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, text, cancellationToken);
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
