using System.Net;
using Microsoft.Extensions.Logging;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>The driver's log lines, with fixed event ids and structured fields.</summary>
internal static partial class VrrpDriverLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{Instance}: {From} -> {To} ({Reason})")]
    public static partial void Transition(ILogger logger, string instance, string from, string to, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "{Instance}: two masters: {Address} (priority {Priority}) is master too (a split brain healing, or a higher-priority router preempting); {Resolution}")]
    public static partial void OtherMaster(ILogger logger, string instance, IPAddress address, byte priority, string resolution);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "{Instance}: rejected packet from {Source}: {Reason} (counted as {Counter})")]
    public static partial void Rejected(ILogger logger, string instance, IPAddress? source, VrrpRejectReason reason, string counter);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "{Instance}: rejected packet from {Source}: {Reason}")]
    public static partial void RejectedAgain(ILogger logger, string instance, IPAddress? source, VrrpRejectReason reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "{Instance}: advert from {Source} carries other addresses [{Addresses}]")]
    public static partial void AddressList(ILogger logger, string instance, IPAddress? source, string addresses);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "{Instance}: effective priority {From} -> {To}")]
    public static partial void Priority(ILogger logger, string instance, byte from, byte to);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "{Instance}: {Note}")]
    public static partial void Note(ILogger logger, string instance, string note);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "unknown VRID {Vrid} received on interface {Interface} from {Source}, ignoring")]
    public static partial void UnknownVrid(ILogger logger, byte vrid, string? @interface, IPAddress? source);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Debug, Message = "packet too short for a VRRP header on {Interface} from {Source} ({Length} bytes)")]
    public static partial void Malformed(ILogger logger, string? @interface, IPAddress? source, int length);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Error, Message = "{Instance}: {Action} failed")]
    public static partial void ActionFailed(ILogger logger, Exception exception, string instance, string action);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "VRRP_Group({Group}): {From} -> {To}")]
    public static partial void GroupTransition(ILogger logger, string group, string from, string to);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Error, Message = "engine step failed for {Instance} on {Event}")]
    public static partial void StepFailed(ILogger logger, Exception exception, string instance, string @event);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "{Instance}: {Timer} timer is {LateMs:0} ms overdue: the loop's heartbeat pauses until it fires")]
    public static partial void TimerOverdue(ILogger logger, string instance, string timer, double lateMs);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Information, Message = "({To}): was ({From}) before the reload: same VRID, family and interface, it keeps its state")]
    public static partial void Renamed(ILogger logger, string from, string to);
}
