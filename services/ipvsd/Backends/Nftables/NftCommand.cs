using System.ComponentModel;
using System.Diagnostics;

namespace Vigil.Ipvsd.Backends.Nftables;

/// <summary>An nft command that failed: its arguments, exit code and what nft said.</summary>
public sealed class NftablesException : Exception
{
    public NftablesException(string message) : base(message) { }

    public NftablesException(string message, Exception inner) : base(message, inner) { }

    public NftablesException() { }
}

/// <summary>The outcome of one nft run.</summary>
internal sealed record NftResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>
/// Runs /usr/sbin/nft, in the current network namespace or, through <c>ip netns exec</c>, in a
/// named one. Scripts go on stdin (<c>nft -f -</c>): one script is one kernel transaction.
/// </summary>
internal sealed class NftCommand
{
    public const string DefaultNft = "/usr/sbin/nft";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly string[] IpPaths = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

    private readonly string _nft;
    private readonly string? _namespace;

    public NftCommand(string nft, string? networkNamespace)
    {
        _nft = nft;
        _namespace = string.IsNullOrEmpty(networkNamespace) ? null : networkNamespace;
    }

    public async Task<NftResult> RunAsync(IReadOnlyList<string> args, string? stdin, CancellationToken cancellationToken)
    {
        if (!File.Exists(_nft)) throw new NftablesException($"the nftables backend needs {_nft}, which is missing: install nftables");
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_namespace is null)
        {
            psi.FileName = _nft;
        }
        else
        {
            psi.FileName = IpPaths.FirstOrDefault(File.Exists) ?? throw new NftablesException($"the ip command (iproute2) is missing: needed to run nft in network namespace {_namespace}");
            foreach (var a in new[] { "netns", "exec", _namespace, _nft }) psi.ArgumentList.Add(a);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        // nft's messages are parsed for "No such file or directory": keep them untranslated.
        psi.Environment["LC_ALL"] = "C";
        var display = string.Join(' ', psi.ArgumentList.Prepend(psi.FileName));

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new NftablesException($"cannot run {display}: {e.Message}", e);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                if (stdin is not null) await process.StandardInput.WriteAsync(stdin.AsMemory(), timeout.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // nft exited before reading all of the script; its exit code and stderr say why.
            }
            finally
            {
                process.StandardInput.Close();
            }
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return new NftResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (cancellationToken.IsCancellationRequested) throw;
            throw new NftablesException($"{display} did not finish within {Timeout.TotalSeconds} s");
        }
    }
}
