using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Vigil.Checkd.Tests.Support;

/// <summary>A TCP server on loopback that answers each connection with a handler and records
/// what it received.</summary>
public sealed class LoopbackTcpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly Func<Stream, Socket, CancellationToken, Task> _handler;

    public LoopbackTcpServer(Func<Stream, Socket, CancellationToken, Task> handler, IPAddress? address = null)
    {
        _handler = handler;
        _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public ConcurrentQueue<IPEndPoint> Clients { get; } = new();

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Clients.Enqueue((IPEndPoint)socket.RemoteEndPoint!);
                _ = Task.Run(async () =>
                {
                    using (socket)
                    await using (var stream = new NetworkStream(socket, ownsSocket: false))
                    {
                        try
                        {
                            await _handler(stream, socket, _stop.Token);
                        }
                        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or System.Security.Authentication.AuthenticationException)
                        {
                        }
                    }
                });
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
    }

    /// <summary>An HTTP server: reads the request head, records it, writes the response and closes.</summary>
    public static LoopbackTcpServer Http(Func<string, byte[]> respond, ConcurrentQueue<string> requests, Func<Stream, Task<Stream>>? wrap = null) =>
        new(async (raw, _, ct) =>
        {
            var stream = wrap is null ? raw : await wrap(raw);
            var head = await ReadHeadAsync(stream, ct);
            requests.Enqueue(head);
            await stream.WriteAsync(respond(head), ct);
            await stream.FlushAsync(ct);
            if (stream is SslStream ssl) await ssl.ShutdownAsync();
        });

    public static async Task<string> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (!Encoding.ASCII.GetString(buffer.ToArray()).EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, ct) == 0) break;
            buffer.Add(one[0]);
        }
        return Encoding.ASCII.GetString(buffer.ToArray());
    }

    public static byte[] HttpResponse(int status, string body, bool contentLength = true)
    {
        var head = $"HTTP/1.0 {status} X\r\nServer: test\r\n{(contentLength ? $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" : "")}\r\n";
        return Encoding.UTF8.GetBytes(head + body);
    }

    /// <summary>A self-signed certificate for "vigil.test".</summary>
    public static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=vigil.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("vigil.test");
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }
}
