using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;

namespace Vigil.Checkd.Alerts;

/// <summary>Where alerts go; the engine only enqueues and never waits for delivery.</summary>
public interface IAlertSink
{
    /// <summary>Queues a mail (or drops it when mail is not configured).</summary>
    void Enqueue(AlertAction alert, CheckdGlobals globals);

    /// <summary>Waits until the queue is empty or the timeout passes (daemon shutdown).</summary>
    Task FlushAsync(TimeSpan timeout);
}

/// <summary>
/// Turns pool alerts into keepalived's mails and delivers them one at a time from a background
/// task, so a slow or dead SMTP server delays only other mails, never a check. Subjects:
/// <c>[router_id] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP</c> and
/// <c>[router_id] Virtualserver [10.0.0.1]:tcp:80 - DOWN</c>; bodies are the checker's text
/// (<c>=&gt; TCP CHECK succeed on service &lt;=</c>) or the quorum line.
/// </summary>
public sealed partial class AlertSender : IAlertSink, IAsyncDisposable
{
    private const int QueueCapacity = 1000;
    private readonly Channel<MailJob> _queue;
    private readonly SmtpAlertClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task _worker;
    private readonly CancellationTokenSource _stop = new();
    private int _pending;
    private long _sent;
    private long _failed;
    private long _dropped;
    private int _disposed;

    public AlertSender(SmtpAlertClient client, TimeProvider time, ILogger logger)
    {
        _client = client;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<MailJob>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ =>
            {
                Interlocked.Increment(ref _dropped);
                Interlocked.Decrement(ref _pending);
            });
        _worker = Task.Run(RunAsync);
    }

    public long Sent => Interlocked.Read(ref _sent);
    public long Failed => Interlocked.Read(ref _failed);
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>keepalived's subject for an alert.</summary>
    public static string Subject(AlertAction alert, string routerId) => alert.Kind switch
    {
        AlertKind.VirtualServer => $"[{routerId}] Virtualserver {alert.VirtualServer} - {alert.State}",
        _ => $"[{routerId}] Realserver {alert.RealServer!.Value.Format(alert.VirtualServer.Protocol)} of virtual server {alert.VirtualServer} - {alert.State}",
    };

    public void Enqueue(AlertAction alert, CheckdGlobals globals)
    {
        var settings = globals.Alerts;
        if (settings.Recipients.IsEmpty || settings.Server is null) return;
        var host = Dns.GetHostName();
        var from = settings.From ?? $"{Environment.UserName}@{host}";
        var message = new MailMessage(from, settings.Recipients, Subject(alert, globals.RouterId), alert.Body, _time.GetLocalNow());
        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite(new MailJob(message, settings.Server, settings.HeloName ?? host, settings.ConnectTimeout)))
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    public async Task FlushAsync(TimeSpan timeout)
    {
        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (Volatile.Read(ref _pending) > 0 && _time.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time).ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    var endpoint = await ResolveAsync(job.Server, _stop.Token).ConfigureAwait(false);
                    await _client.SendAsync(endpoint, job.HeloName, job.Message, job.Timeout, _stop.Token).ConfigureAwait(false);
                    Interlocked.Increment(ref _sent);
                    LogSent(job.Message.Subject, endpoint.ToString());
                }
                catch (Exception e) when (e is SmtpAlertException or System.Net.Sockets.SocketException or ArgumentException)
                {
                    Interlocked.Increment(ref _failed);
                    LogFailed(job.Message.Subject, e.Message);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(SmtpServerAddress server, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(server.Host, out var address)) return new IPEndPoint(address, server.Port);
        var addresses = await Dns.GetHostAddressesAsync(server.Host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0) throw new SmtpAlertException($"smtp_server {server.Host} has no address");
        return new IPEndPoint(addresses[0], server.Port);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _worker.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "SMTP alert sent to {server}: {subject}")]
    private partial void LogSent(string subject, string server);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "SMTP alert not sent ({subject}): {reason}")]
    private partial void LogFailed(string subject, string reason);

    private sealed record MailJob(MailMessage Message, SmtpServerAddress Server, string HeloName, TimeSpan Timeout);
}
