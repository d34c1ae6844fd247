using System.Net;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MimeKit.Utils;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Alerts;

/// <summary>One mail to deliver.</summary>
public sealed record MailMessage(string From, IReadOnlyList<string> Recipients, string Subject, string Body, DateTimeOffset Date);

/// <summary>
/// Alert mails through MailKit's SMTP client, as keepalived sends them: to the smtp_server relay
/// without TLS or AUTH, EHLO (HELO when refused) with router_id's name, every step bounded by
/// smtp_connect_timeout. The connection is made by Vigil's socket factory (so a test can send from
/// another network namespace) and handed to MailKit, which does the dialogue, the dot-stuffing and
/// the message's encoding; the headers are keepalived's, in its order (Date, From, Subject,
/// X-Mailer, To).
/// </summary>
public sealed class SmtpAlertClient(ISocketFactory sockets, TimeProvider time)
{
    /// <exception cref="SmtpAlertException">the server refused a step, or timed out.</exception>
    public async Task SendAsync(IPEndPoint server, string heloName, MailMessage message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var target = new ProbeTarget(server, timeout);
        Socket socket;
        try
        {
            socket = await ProbeSockets.ConnectTcpAsync(sockets, target, time, cancellationToken).ConfigureAwait(false);
        }
        catch (ProbeFailureException e)
        {
            throw new SmtpAlertException($"SMTP connection to {target.Pair}: {e.Message}");
        }
        catch (ProbeLocalException e)
        {
            throw new SmtpAlertException(e.Message);
        }
        using var client = new SmtpClient
        {
            LocalDomain = heloName,
            Timeout = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue),
            CheckCertificateRevocation = false,
        };
        try
        {
            await client.ConnectAsync(socket, server.Address.ToString(), server.Port, SecureSocketOptions.None, cancellationToken).ConfigureAwait(false);
            await client.SendAsync(Format, ToMime(message), cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpCommandException e)
        {
            throw new SmtpAlertException($"error processing {Step(e.ErrorCode)} cmd on SMTP server {target.Pair}: status code {(int)e.StatusCode} ({e.Message.Trim()})");
        }
        catch (Exception e) when (e is SmtpProtocolException or IOException or TimeoutException or SocketException or ServiceNotConnectedException)
        {
            throw new SmtpAlertException($"SMTP dialogue with {target.Pair} failed: {e.Message}");
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static string Step(SmtpErrorCode code) => code switch
    {
        SmtpErrorCode.SenderNotAccepted => "MAIL",
        SmtpErrorCode.RecipientNotAccepted => "RCPT",
        SmtpErrorCode.MessageNotAccepted => "DATA",
        _ => "SMTP",
    };

    /// <summary>
    /// Lines as SMTP wants them (CRLF) and headers unfolded up to RFC 5322's 998 characters, as
    /// keepalived writes them: a long Subject stays on one line for the filters operators use.
    /// </summary>
    public static readonly FormatOptions Format = CreateFormat();

    private static FormatOptions CreateFormat()
    {
        var f = FormatOptions.Default.Clone();
        f.NewLineFormat = NewLineFormat.Dos;
        f.MaxLineLength = 998;
        return f;
    }

    /// <summary>The message with keepalived's headers, in its order.</summary>
    public static MimeMessage ToMime(MailMessage message)
    {
        var mime = new MimeMessage();
        mime.Headers.Clear();
        void Add(string name, string value)
        {
            var header = new Header(name, "");
            // Encoded (and folded) with Format, not MimeKit's default 78-column folding.
            header.SetValue(Format, System.Text.Encoding.UTF8, value);
            mime.Headers.Add(header);
        }
        Add("Date", DateUtils.FormatDate(message.Date));
        Add("From", message.From);
        Add("Subject", message.Subject);
        Add("X-Mailer", "Vigil");
        Add("To", string.Join(", ", message.Recipients));
        mime.Body = new TextPart("plain") { Text = message.Body + "\n" };
        return mime;
    }
}

public sealed class SmtpAlertException(string message) : Exception(message);
