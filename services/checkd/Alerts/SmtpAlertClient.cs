using System.Net;
using System.Net.Sockets;
using System.Text;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Alerts;

/// <summary>One mail to deliver.</summary>
public sealed record MailMessage(string From, IReadOnlyList<string> Recipients, string Subject, string Body, DateTimeOffset Date);

/// <summary>
/// A small SMTP client (RFC 5321) for alerts: greeting 220, EHLO (HELO if the server refuses
/// EHLO), MAIL FROM, one RCPT TO per recipient, DATA with dot-stuffing, QUIT. Every step waits at
/// most the configured timeout (keepalived's smtp_connect_timeout). No TLS and no AUTH, like
/// keepalived: alerts go to a local relay.
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
        using (socket)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var reader = new SmtpProbe.SmtpReplyReader(stream, target, time);
            try
            {
                await Expect(reader, 220, "greeting", cancellationToken).ConfigureAwait(false);
                await Write(stream, $"EHLO {heloName}\r\n", target, cancellationToken).ConfigureAwait(false);
                var ehlo = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (ehlo.Code != 250)
                {
                    await Write(stream, $"HELO {heloName}\r\n", target, cancellationToken).ConfigureAwait(false);
                    await Expect(reader, 250, "HELO", cancellationToken).ConfigureAwait(false);
                }
                await Write(stream, $"MAIL FROM:{AngleAddress(message.From)}\r\n", target, cancellationToken).ConfigureAwait(false);
                await Expect(reader, 250, "MAIL", cancellationToken).ConfigureAwait(false);
                foreach (var rcpt in message.Recipients)
                {
                    await Write(stream, $"RCPT TO:{AngleAddress(rcpt)}\r\n", target, cancellationToken).ConfigureAwait(false);
                    await Expect(reader, 250, "RCPT", cancellationToken).ConfigureAwait(false);
                }
                await Write(stream, "DATA\r\n", target, cancellationToken).ConfigureAwait(false);
                await Expect(reader, 354, "DATA", cancellationToken).ConfigureAwait(false);
                await Write(stream, DotStuff(Format(message, heloName)) + ".\r\n", target, cancellationToken).ConfigureAwait(false);
                await Expect(reader, 250, "BODY", cancellationToken).ConfigureAwait(false);
                await Write(stream, "QUIT\r\n", target, cancellationToken).ConfigureAwait(false);
                await Expect(reader, 221, "QUIT", cancellationToken).ConfigureAwait(false);
            }
            catch (ProbeFailureException e)
            {
                throw new SmtpAlertException(e.Message);
            }
        }
    }

    private static async Task Expect(SmtpProbe.SmtpReplyReader reader, int code, string step, CancellationToken cancellationToken)
    {
        var reply = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (reply.Code != code) throw new SmtpAlertException($"error processing {step} cmd on SMTP server: status code {reply.Code} ({reply.Text})");
    }

    private Task Write(NetworkStream stream, string text, ProbeTarget target, CancellationToken cancellationToken) =>
        ProbeSockets.WithTimeoutAsync(async ct =>
        {
            try
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new ProbeFailureException($"cannot send data to SMTP server {target.Pair}: {e.Message}");
            }
            return true;
        }, target.ConnectTimeout, time, $"timeout writing to SMTP server {target.Pair}", cancellationToken);

    /// <summary>keepalived's rule: "Name &lt;a@b&gt;" keeps the bracketed part, a bare address is
    /// bracketed.</summary>
    public static string AngleAddress(string address)
    {
        var trimmed = address.Trim();
        var open = trimmed.LastIndexOf('<');
        return trimmed.EndsWith('>') && open >= 0 ? trimmed[open..] : $"<{trimmed}>";
    }

    /// <summary>The message as keepalived writes it: Date, From, Subject, X-Mailer, To (one
    /// recipient per folded line), a blank line, the body.</summary>
    public static string Format(MailMessage message, string heloName)
    {
        var sb = new StringBuilder();
        sb.Append("Date: ").Append(message.Date.ToString("ddd, dd MMM yyyy HH:mm:ss ", System.Globalization.CultureInfo.InvariantCulture))
          .Append(message.Date.ToString("zzz", System.Globalization.CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal)).Append("\r\n");
        sb.Append("From: ").Append(message.From).Append("\r\n");
        sb.Append("Subject: ").Append(message.Subject).Append("\r\n");
        sb.Append("Message-ID: <").Append(Guid.NewGuid().ToString("N")).Append('@').Append(heloName).Append(">\r\n");
        sb.Append("X-Mailer: Vigil\r\n");
        sb.Append("To:");
        for (var i = 0; i < message.Recipients.Count; i++)
        {
            sb.Append(i == 0 ? "" : ",\r\n").Append(' ').Append(message.Recipients[i]);
        }
        sb.Append("\r\n\r\n").Append(message.Body).Append("\r\n\r\n");
        return sb.ToString();
    }

    /// <summary>Normalises line ends to CRLF and doubles a leading dot (RFC 5321 4.5.2).</summary>
    public static string DotStuff(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var sb = new StringBuilder(text.Length + 16);
        for (var i = 0; i < lines.Length; i++)
        {
            if (i == lines.Length - 1 && lines[i].Length == 0) break;
            if (lines[i].StartsWith('.')) sb.Append('.');
            sb.Append(lines[i]).Append("\r\n");
        }
        return sb.ToString();
    }
}

public sealed class SmtpAlertException(string message) : Exception(message);
