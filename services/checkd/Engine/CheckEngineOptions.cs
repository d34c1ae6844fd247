using System.Net;
using Vigil.Checkd.Alerts;
using Vigil.Checkd.Probes;
using Vigil.Scripts;

namespace Vigil.Checkd.Engine;

/// <summary>How a <see cref="CheckEngine"/> runs. The defaults are the production ones.</summary>
public sealed record CheckEngineOptions
{
    /// <summary>All timing (schedules, timeouts, timestamps). Tests pass a manual clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where probe and alert sockets are created (a <see cref="NamespaceSocketFactory"/>
    /// runs the checks from another network namespace).</summary>
    public ISocketFactory Sockets { get; init; } = HostSocketFactory.Instance;

    public ScriptRunner Scripts { get; init; } = ScriptRunner.Default;

    /// <summary>Null: the real probes (<see cref="ProbeFactory"/>).</summary>
    public IProbeFactory? Probes { get; init; }

    /// <summary>Null: mails through <see cref="AlertSender"/> on <see cref="Sockets"/>.</summary>
    public IAlertSink? Alerts { get; init; }

    /// <summary>Events buffered per subscriber before the oldest are dropped.</summary>
    public int SubscriberCapacity { get; init; } = 1024;

    /// <summary>Before a new checker's first run, plus a random part of warmup (keepalived's
    /// BOOTSTRAP_DELAY, 1 s).</summary>
    public TimeSpan BootstrapDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>notify_up/down and quorum_up/down are killed after this (keepalived: no limit;
    /// Vigil bounds every script).</summary>
    public TimeSpan NotifyScriptTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Scripts run at shutdown (omega) get this long, as in keepalived (1 s).</summary>
    public TimeSpan ShutdownScriptTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often FILE_CHECK files are read (keepalived uses inotify).</summary>
    public TimeSpan FilePollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Uniform random numbers in [0, 1) for warmup; null: System.Random.Shared.</summary>
    public Func<double>? Random { get; init; }

    /// <summary>For ha_suspend when vrrpd reports nothing: the addresses configured on this host
    /// (in the sockets' namespace). Null: read from the interfaces.</summary>
    public Func<IReadOnlyCollection<IPAddress>>? LocalAddresses { get; init; }

    /// <summary>Start due probes on the engine loop's thread instead of the thread pool (tests on a
    /// virtual clock, where probes complete synchronously).</summary>
    public bool StartProbesInline { get; init; }

    /// <summary>How often local addresses are re-read for ha_suspend without vrrpd.</summary>
    public TimeSpan LocalAddressPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The engine loop's heartbeat: called from the loop every <see cref="BeatInterval"/> while it
    /// drains its messages and the scheduler's wake-up is not overdue, and between the virtual
    /// servers of a long ApplyConfig (progress, not idleness). Null: no heartbeat.
    /// </summary>
    public Action? OnBeat { get; init; }

    public TimeSpan BeatInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How late the scheduler's wake-up may be before the loop stops beating.</summary>
    public TimeSpan SchedulerLatenessAllowance { get; init; } = TimeSpan.FromSeconds(1);
}
