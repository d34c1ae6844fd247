using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>The new state and what to do about it.</summary>
public sealed record VrrpStepResult(VrrpInstanceState State, IReadOnlyList<VrrpAction> Actions);

/// <summary>
/// The VRRP instance state machine (RFC 3768 section 6.4, RFC 5798 section 6.4) with keepalived's
/// extensions (FAULT, preempt_delay, nopreempt, startup delay, GARP scheduling, trackers, sync
/// groups), as a pure function: no clock, no I/O; time comes in as <c>now</c> (a monotonic
/// instant) and everything to do goes out as <see cref="VrrpAction"/>s.
/// </summary>
public static class VrrpInstanceMachine
{
    public static VrrpStepResult Step(VrrpInstanceState state, VrrpEvent @event, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(@event);
        var stepper = new Stepper(state, now);
        stepper.Handle(@event);
        return stepper.Finish();
    }

    private sealed class Stepper(VrrpInstanceState original, TimeSpan now)
    {
        private readonly List<VrrpAction> _actions = [];
        private readonly VrrpInstanceState _original = original;
        private VrrpInstanceState _s = original;

        private VrrpInstanceConfig Cfg => _s.Config;

        public VrrpStepResult Finish()
        {
            // Timer actions are derived from the deadlines in the state, so they can never disagree.
            foreach (var (kind, at) in _s.Timers)
            {
                if (_original.TimerDue(kind) != at) _actions.Add(new ArmTimer(kind, at));
            }
            foreach (var kind in _original.Timers.Keys)
            {
                if (!_s.Timers.ContainsKey(kind)) _actions.Add(new CancelTimer(kind));
            }
            return new VrrpStepResult(_s, _actions);
        }

        public void Handle(VrrpEvent e)
        {
            switch (e)
            {
                case StartupEvent startup: Startup(startup); break;
                case TimerExpiredEvent timer: TimerExpired(timer.Kind); break;
                case AdvertReceivedEvent advert: AdvertReceived(advert.Packet); break;
                case InterfaceStateChangedEvent link:
                    if (link.Up) ClearFault(VrrpFaults.InterfaceDown, VrrpTransitionReason.InterfaceUp);
                    else DownInstance(VrrpFaults.InterfaceDown, VrrpTransitionReason.InterfaceDown);
                    break;
                case SourceAddressChangedEvent src: SourceAddressChanged(src.Address); break;
                case TrackersChangedEvent trackers: TrackersChanged(trackers); break;
                case SendGarpRequestedEvent:
                    if (_s.State == VrrpStateKind.Master && _s.VipsSet) SendGarp(Cfg.GarpMasterRepeat);
                    break;
                case ShutdownEvent shutdown: Shutdown(shutdown.Deleted); break;
                case SyncGotoMasterEvent:
                    if (_s.State == VrrpStateKind.Backup) GotoMaster(VrrpTransitionReason.SyncGroup);
                    break;
                case SyncGotoBackupEvent: SyncGotoBackup(); break;
                case SyncGotoFaultEvent: SyncGotoFault(); break;
                // A reload's priority replaces any runtime one.
                case ConfigChangedEvent changed: Reconfigure(changed.Config, priorityOverride: null); break;
                case PriorityOverrideEvent o:
                    if (o.Priority != _s.PriorityOverride) Reconfigure(Cfg, o.Priority);
                    break;
                default: throw new ArgumentException($"unknown event {e.GetType().Name}", nameof(e));
            }
        }

        // ---- helpers -------------------------------------------------------------------------

        private void Count(VrrpCounter counter) => _s = _s with { Stats = _s.Stats.Increment(counter) };

        private long MasterDownTimer() =>
            VrrpTiming.MasterDownMicros(Cfg.Version, _s.EffectivePriority, _s.MasterAdverIntervalMicros, Cfg.DownTimerAdverts);

        private long SkewTime() => VrrpTiming.SkewMicrosFor(Cfg.Version, _s.EffectivePriority, _s.MasterAdverIntervalMicros);

        /// <summary>Times run from the end of vrrp_startup_delay while it lasts.</summary>
        private TimeSpan TimeBase => _s.DelayedStartUntil is { } d && d > now ? d : now;

        private void SetTimer(VrrpTimerKind kind, TimeSpan? at) =>
            _s = _s with { Timers = at is { } t ? _s.Timers.SetItem(kind, t) : _s.Timers.Remove(kind) };

        /// <summary>keepalived's "sands": the one protocol timer, master down (BACKUP) or advert (MASTER).</summary>
        private void ArmProtocolTimer(VrrpTimerKind kind, long micros)
        {
            SetTimer(kind == VrrpTimerKind.Advert ? VrrpTimerKind.MasterDown : VrrpTimerKind.Advert, null);
            SetTimer(kind, TimeBase + VrrpTiming.FromMicros(micros));
        }

        private void ArmMasterDown(long micros)
        {
            _s = _s with { MasterDownMicros = micros };
            ArmProtocolTimer(VrrpTimerKind.MasterDown, micros);
        }

        private void ClearTimers(params VrrpTimerKind[] kinds)
        {
            foreach (var k in kinds) SetTimer(k, null);
        }

        private void Transition(VrrpStateKind to, VrrpTransitionReason reason)
        {
            if (_s.State == to) return;
            _actions.Add(new LogTransition(_s.State, to, reason));
            _s = _s with { State = to, LastTransition = now };
        }

        private void Notify(VrrpNotifyState state) => _actions.Add(new RunNotify(state, _s.EffectivePriority));

        private void SendAdvert(byte priority)
        {
            _actions.Add(new SendAdvert(priority));
            Count(VrrpCounter.AdvertSent);
            if (priority == VrrpConstants.PriorityStop) Count(VrrpCounter.PriorityZeroSent);
        }

        private void SendGarp(int repeat)
        {
            if (repeat > 0) _actions.Add(new SendGarp(repeat));
        }

        private byte ComputeEffectivePriority()
        {
            // An address owner's priority is never adjusted (keepalived vrrp_set_effective_priority).
            if (_s.BasePriority == VrrpConstants.PriorityOwner) return VrrpConstants.PriorityOwner;
            return (byte)Math.Clamp(_s.BasePriority + _s.TrackerWeight, 1, VrrpConstants.PriorityOwner - 1);
        }

        /// <summary>Compares the advert's source with ours as big-endian numbers (keepalived's inet_inaddrcmp).</summary>
        private int CompareWithOurAddress(IPAddress? theirs)
        {
            var ours = _s.SourceAddress;
            if (theirs is null || ours is null || theirs.AddressFamily != ours.AddressFamily) return 0;
            Span<byte> a = stackalloc byte[16];
            Span<byte> b = stackalloc byte[16];
            theirs.TryWriteBytes(a, out var n);
            ours.TryWriteBytes(b, out _);
            return Math.Sign(a[..n].SequenceCompareTo(b[..n]));
        }

        private static VrrpTransitionReason FaultReason(VrrpFaults faults) =>
            (faults & VrrpFaults.InterfaceDown) != 0 ? VrrpTransitionReason.InterfaceDown
            : (faults & VrrpFaults.NoSourceAddress) != 0 ? VrrpTransitionReason.NoSourceAddress
            : VrrpTransitionReason.TrackerFault;

        // ---- events --------------------------------------------------------------------------

        private void Startup(StartupEvent e)
        {
            if (_s.State != VrrpStateKind.Init)
            {
                _actions.Add(new LogNote($"startup ignored: already {_s.State}"));
                return;
            }
            var faults = (e.InterfaceUp ? VrrpFaults.None : VrrpFaults.InterfaceDown)
                | (e.SourceAddress is null ? VrrpFaults.NoSourceAddress : VrrpFaults.None)
                | (_s.TrackerFaults > 0 ? VrrpFaults.Tracker : VrrpFaults.None);
            _s = _s with
            {
                SourceAddress = e.SourceAddress,
                Faults = faults,
                DelayedStartUntil = Cfg.StartupDelay > TimeSpan.Zero ? now + Cfg.StartupDelay : null,
                MasterAdverIntervalMicros = Cfg.AdvertIntervalMicros,
                WantState = Cfg.InitialState,
            };
            _s = _s with { EffectivePriority = ComputeEffectivePriority() };

            if (faults != VrrpFaults.None)
            {
                _s = _s with { WantState = VrrpStateKind.Fault };
                Transition(VrrpStateKind.Fault, FaultReason(faults));
                Notify(VrrpNotifyState.Fault);
                return;
            }

            if (Cfg.InitialState == VrrpStateKind.Master && Cfg.IsOwner)
            {
                // The address owner takes over at once (RFC 3768 6.4.1). With a startup delay or
                // in a sync group it goes through BACKUP with a zero master down timer instead,
                // as keepalived does, so the delay and the group's agreement still apply.
                _s = _s with { NextMasterReason = VrrpTransitionReason.AddressOwner };
                if (_s.DelayedStartUntil is null && Cfg.SyncGroup is null)
                {
                    GotoMaster(VrrpTransitionReason.AddressOwner);
                    return;
                }
                Transition(VrrpStateKind.Backup, VrrpTransitionReason.Startup);
                ArmMasterDown(0);
                return;
            }

            // Everyone else, "state MASTER" included, starts as BACKUP and waits the full
            // Master_Down_Interval (keepalived 2.2.7 vrrp_init_state; seen in the lab: a
            // priority 150 "state MASTER" keepalived takes over 3.4 s after starting).
            Transition(VrrpStateKind.Backup, VrrpTransitionReason.Startup);
            Notify(VrrpNotifyState.Backup);
            ArmMasterDown(MasterDownTimer());
        }

        private void TimerExpired(VrrpTimerKind kind)
        {
            // A timer re-armed or cancelled after this expiry was queued is stale: ignore it.
            if (_s.TimerDue(kind) is not { } due || now < due) return;
            SetTimer(kind, null);
            switch (kind)
            {
                case VrrpTimerKind.MasterDown when _s.State == VrrpStateKind.Backup:
                    if (Cfg.SyncGroup is not null)
                    {
                        // vrrp_sync_can_goto_master: the group decides; until it does, wait again.
                        _s = _s with { WantState = VrrpStateKind.Master, SyncMasterRequested = true };
                        ArmMasterDown(MasterDownTimer());
                        return;
                    }
                    GotoMaster(_s.NextMasterReason);
                    break;
                case VrrpTimerKind.Advert when _s.State == VrrpStateKind.Master:
                    MasterTransmit();
                    break;
                case VrrpTimerKind.GarpDelay when _s.State == VrrpStateKind.Master && _s.VipsSet:
                    SendGarp(Cfg.GarpMasterRepeat);
                    break;
                case VrrpTimerKind.GarpRefresh when _s.State == VrrpStateKind.Master && _s.VipsSet:
                    SendGarp(Cfg.GarpMasterRefreshRepeat);
                    SetTimer(VrrpTimerKind.GarpRefresh, now + Cfg.GarpMasterRefresh);
                    break;
                case VrrpTimerKind.LowerPriorityGarp when _s.State == VrrpStateKind.Master && _s.VipsSet:
                    SendGarp(Cfg.GarpLowerPrioRepeat);
                    break;
            }
        }

        private void GotoMaster(VrrpTransitionReason reason)
        {
            _s = _s with
            {
                WantState = VrrpStateKind.Master,
                SyncMasterRequested = false,
                // A VRRPv3 master advertises its own interval again (keepalived become_master).
                MasterAdverIntervalMicros = Cfg.AdvertIntervalMicros,
            };
            Transition(VrrpStateKind.Master, reason);
            if (_s.DelayedStartUntil is { } d && d > now)
            {
                // Still inside vrrp_startup_delay: the first advert (and the VIPs) wait for its end.
                ArmProtocolTimer(VrrpTimerKind.Advert, Cfg.AdvertIntervalMicros);
                return;
            }
            MasterTransmit();
        }

        /// <summary>RFC 6.4.3 "Adver_Timer fires": advertise; the first time, take the VIPs.</summary>
        private void MasterTransmit()
        {
            // The advert goes first so that the old master drops the VIPs before our GARPs arrive.
            SendAdvert(_s.EffectivePriority);
            if (!_s.VipsSet) BecomeMaster();
            ArmProtocolTimer(VrrpTimerKind.Advert, Cfg.AdvertIntervalMicros);
        }

        private void BecomeMaster()
        {
            Count(VrrpCounter.BecomeMaster);
            _actions.Add(new AddVips());
            _s = _s with { VipsSet = true };
            SendGarp(Cfg.GarpMasterRepeat);
            if (Cfg.GarpMasterDelay > TimeSpan.Zero) SetTimer(VrrpTimerKind.GarpDelay, now + Cfg.GarpMasterDelay);
            if (Cfg.GarpMasterRefresh > TimeSpan.Zero) SetTimer(VrrpTimerKind.GarpRefresh, now + Cfg.GarpMasterDelay + Cfg.GarpMasterRefresh);
            Notify(VrrpNotifyState.Master);
        }

        /// <summary>keepalived vrrp_state_leave_master: to BACKUP (outvoted) or FAULT.</summary>
        private void LeaveMaster(VrrpStateKind to, VrrpTransitionReason reason, bool sendPriorityZero)
        {
            // Going to FAULT always tells the backups, so they take over after Skew_Time only.
            if (sendPriorityZero || to == VrrpStateKind.Fault) SendAdvert(VrrpConstants.PriorityStop);
            if (_s.VipsSet)
            {
                _actions.Add(new RemoveVips());
                _s = _s with { VipsSet = false };
            }
            ClearTimers(VrrpTimerKind.GarpDelay, VrrpTimerKind.GarpRefresh, VrrpTimerKind.LowerPriorityGarp);
            _s = _s with { WantState = to };
            Transition(to, reason);
            if (to == VrrpStateKind.Backup) _s = _s with { PreemptTime = null };
            Notify(to == VrrpStateKind.Backup ? VrrpNotifyState.Backup : VrrpNotifyState.Fault);
            Count(VrrpCounter.ReleaseMaster);
            if (to == VrrpStateKind.Backup)
            {
                ArmMasterDown(MasterDownTimer());
            }
            else
            {
                _s = _s with { MasterAdverIntervalMicros = Cfg.AdvertIntervalMicros, MasterDownMicros = MasterDownTimer() };
                ClearTimers(VrrpTimerKind.Advert, VrrpTimerKind.MasterDown);
            }
        }

        private void EnterFaultFromBackup(VrrpTransitionReason reason)
        {
            _s = _s with { WantState = VrrpStateKind.Fault, MasterAdverIntervalMicros = Cfg.AdvertIntervalMicros };
            Transition(VrrpStateKind.Fault, reason);
            Notify(VrrpNotifyState.Fault);
            ClearTimers(VrrpTimerKind.Advert, VrrpTimerKind.MasterDown);
        }

        private void LeaveFault(VrrpTransitionReason reason)
        {
            _s = _s with
            {
                WantState = VrrpStateKind.Backup,
                PreemptTime = null,
                MasterAdverIntervalMicros = Cfg.AdvertIntervalMicros,
            };
            Transition(VrrpStateKind.Backup, reason);
            Notify(VrrpNotifyState.Backup);
            ArmMasterDown(MasterDownTimer());
        }

        private void DownInstance(VrrpFaults flag, VrrpTransitionReason reason)
        {
            var alreadyDown = _s.Faults != VrrpFaults.None;
            _s = _s with { Faults = _s.Faults | flag };
            if (alreadyDown || _s.State is VrrpStateKind.Init or VrrpStateKind.Stopped or VrrpStateKind.Fault) return;
            if (_s.State == VrrpStateKind.Master) LeaveMaster(VrrpStateKind.Fault, reason, sendPriorityZero: true);
            else EnterFaultFromBackup(reason);
        }

        private void ClearFault(VrrpFaults flag, VrrpTransitionReason reason)
        {
            if ((_s.Faults & flag) == 0) return;
            _s = _s with { Faults = _s.Faults & ~flag };
            if (_s.Faults != VrrpFaults.None || _s.State != VrrpStateKind.Fault) return;
            if (Cfg.SyncGroup is not null)
            {
                // A sync group leaves FAULT together, once no member has a fault of its own.
                _s = _s with { WantState = VrrpStateKind.Backup };
                return;
            }
            LeaveFault(reason);
        }

        private void SourceAddressChanged(IPAddress? address)
        {
            _s = _s with { SourceAddress = address };
            if (address is null) DownInstance(VrrpFaults.NoSourceAddress, VrrpTransitionReason.NoSourceAddress);
            else ClearFault(VrrpFaults.NoSourceAddress, VrrpTransitionReason.SourceAddressRestored);
        }

        private void TrackersChanged(TrackersChangedEvent e)
        {
            _s = _s with { TrackerWeight = e.WeightSum, TrackerFaults = Math.Max(0, e.FaultCount) };
            var priority = ComputeEffectivePriority();
            if (priority != _s.EffectivePriority)
            {
                var oldDown = _s.MasterDownMicros;
                _actions.Add(new PriorityChanged(_s.EffectivePriority, priority));
                _s = _s with { EffectivePriority = priority };
                var newDown = MasterDownTimer();
                _s = _s with { MasterDownMicros = newDown };
                // keepalived moves a running master down timer by the change of its length.
                if (_s.State == VrrpStateKind.Backup && _s.TimerDue(VrrpTimerKind.MasterDown) is { } due)
                    SetTimer(VrrpTimerKind.MasterDown, due + VrrpTiming.FromMicros(newDown - oldDown));
            }
            if (_s.TrackerFaults > 0) DownInstance(VrrpFaults.Tracker, VrrpTransitionReason.TrackerFault);
            else ClearFault(VrrpFaults.Tracker, VrrpTransitionReason.TrackerRecovered);
        }

        private void Shutdown(bool deleted)
        {
            if (_s.State == VrrpStateKind.Stopped) return;
            // RFC 6.4.3 Shutdown: send an advert with priority 0 so a backup takes over at once.
            if (_s.State == VrrpStateKind.Master) SendAdvert(VrrpConstants.PriorityStop);
            if (_s.VipsSet)
            {
                _actions.Add(new RemoveVips());
                _s = _s with { VipsSet = false };
            }
            var wasStarted = _s.State != VrrpStateKind.Init;
            _s = _s with { WantState = VrrpStateKind.Stopped, Timers = _s.Timers.Clear() };
            Transition(VrrpStateKind.Stopped, VrrpTransitionReason.Shutdown);
            if (wasStarted) Notify(deleted ? VrrpNotifyState.Deleted : VrrpNotifyState.Stop);
        }

        private void SyncGotoBackup()
        {
            if (_s.State == VrrpStateKind.Master) LeaveMaster(VrrpStateKind.Backup, VrrpTransitionReason.SyncGroup, sendPriorityZero: false);
            else if (_s.State == VrrpStateKind.Fault && _s.Faults == VrrpFaults.None) LeaveFault(VrrpTransitionReason.SyncGroup);
        }

        private void SyncGotoFault()
        {
            if (_s.State == VrrpStateKind.Master) LeaveMaster(VrrpStateKind.Fault, VrrpTransitionReason.SyncGroup, sendPriorityZero: false);
            else if (_s.State == VrrpStateKind.Backup) EnterFaultFromBackup(VrrpTransitionReason.SyncGroup);
        }

        // ---- reload ----------------------------------------------------------------------------

        /// <summary>
        /// A reload changed the configuration in place, as keepalived 2.2.7 does (vrrp.c
        /// clear_diff_vrrp, restore_vrrp_state; vrrp_scheduler.c vrrp_init_state with reload_master):
        /// the state stays. A master keeps its VIPs, removes only the removed ones, adds and
        /// announces only the added ones, and advertises at once when its advert changed (new
        /// priority, addresses, interval or authentication), the new interval counting from there.
        /// A backup keeps its master down timer, moved only by the change of its length. If the
        /// new priority loses the election, the usual rules decide: a preempting backup takes over.
        /// A runtime priority override goes the same way, with the configuration unchanged.
        /// </summary>
        private void Reconfigure(VrrpInstanceConfig next, byte? priorityOverride)
        {
            var old = Cfg;
            var oldPriority = _s.EffectivePriority;
            var oldMasterDown = MasterDownTimer();
            var oldAdvert = old.Advertisement(oldPriority);
            // A VRRPv3 backup goes on using the interval its master advertises (RFC 5798 6.4.2).
            var keepMastersInterval = _s.State == VrrpStateKind.Backup && _s.MasterAddress is not null
                && old.Version == VrrpVersion.V3 && next.Version == VrrpVersion.V3;
            _s = _s with
            {
                Config = next,
                PriorityOverride = priorityOverride,
                MasterAdverIntervalMicros = keepMastersInterval ? _s.MasterAdverIntervalMicros : next.AdvertIntervalMicros,
            };
            if (_s.State == VrrpStateKind.Init) _s = _s with { WantState = next.InitialState };

            var priority = ComputeEffectivePriority();
            if (priority != oldPriority)
            {
                _actions.Add(new PriorityChanged(oldPriority, priority));
                _s = _s with { EffectivePriority = priority };
            }
            // A new preempt_delay counts from the next lower-priority advert.
            if (next.PreemptDelay != old.PreemptDelay) _s = _s with { PreemptTime = null };

            switch (_s.State)
            {
                case VrrpStateKind.Backup:
                    ReconfigureBackup(oldMasterDown);
                    break;
                case VrrpStateKind.Master:
                    ReconfigureMaster(old, oldAdvert);
                    break;
                case VrrpStateKind.Fault:
                    _s = _s with { MasterDownMicros = MasterDownTimer() };
                    break;
            }
        }

        private void ReconfigureBackup(long oldMasterDown)
        {
            var newMasterDown = MasterDownTimer();
            // Only a timer armed for the full Master_Down_Interval moves; a Skew_Time after a
            // priority-0 advert (or the zero of an owner's start) still means "take over now".
            if (_s.MasterDownMicros != oldMasterDown || newMasterDown == oldMasterDown) return;
            _s = _s with { MasterDownMicros = newMasterDown };
            if (_s.TimerDue(VrrpTimerKind.MasterDown) is { } due)
                SetTimer(VrrpTimerKind.MasterDown, due + VrrpTiming.FromMicros(newMasterDown - oldMasterDown));
        }

        private void ReconfigureMaster(VrrpInstanceConfig old, VrrpAdvertisement oldAdvert)
        {
            var inStartupDelay = _s.DelayedStartUntil is { } d && d > now;
            if (!inStartupDelay && !oldAdvert.Equals(Cfg.Advertisement(_s.EffectivePriority)))
            {
                SendAdvert(_s.EffectivePriority);
                ArmProtocolTimer(VrrpTimerKind.Advert, Cfg.AdvertIntervalMicros);
            }

            // Without VIPs set (still inside vrrp_startup_delay) the first advert adds the new ones.
            if (_s.VipsSet)
            {
                var before = old.VirtualAddresses.Concat(old.ExcludedVirtualAddresses).Distinct().ToList();
                var after = Cfg.VirtualAddresses.Concat(Cfg.ExcludedVirtualAddresses).Distinct().ToList();
                var added = after.Where(a => !before.Contains(a)).ToList();
                var removed = before.Where(a => !after.Contains(a)).ToList();
                if (added.Count > 0 || removed.Count > 0)
                    _actions.Add(new LogNote($"addresses changed in place: {string.Join(' ', added.Select(a => "+" + a).Concat(removed.Select(a => "-" + a)))}"));
                // Always, so that address options, routes and rules follow the new configuration too.
                _actions.Add(new ChangeVips(added, removed));
                if (added.Count > 0 && Cfg.GarpMasterRepeat > 0)
                {
                    _actions.Add(new SendGarp(Cfg.GarpMasterRepeat) { Only = added });
                    if (Cfg.GarpMasterRefresh > TimeSpan.Zero) SetTimer(VrrpTimerKind.GarpRefresh, now + Cfg.GarpMasterRefresh);
                }
            }

            // GARP timers follow their new settings; a setting now off cancels its timer.
            if (Cfg.GarpMasterDelay == TimeSpan.Zero || Cfg.GarpMasterRepeat == 0) SetTimer(VrrpTimerKind.GarpDelay, null);
            if (Cfg.GarpMasterRefresh == TimeSpan.Zero) SetTimer(VrrpTimerKind.GarpRefresh, null);
            else if (_s.VipsSet && (Cfg.GarpMasterRefresh != old.GarpMasterRefresh || _s.TimerDue(VrrpTimerKind.GarpRefresh) is null))
                SetTimer(VrrpTimerKind.GarpRefresh, now + Cfg.GarpMasterRefresh);
            if (Cfg.GarpLowerPrioDelay == TimeSpan.Zero || Cfg.GarpLowerPrioRepeat == 0) SetTimer(VrrpTimerKind.LowerPriorityGarp, null);
        }

        // ---- receiving -----------------------------------------------------------------------

        private void AdvertReceived(VrrpReceivedPacket packet)
        {
            // keepalived ignores (without counting) what arrives in FAULT or before it runs, and
            // everything during vrrp_startup_delay.
            if (_s.State is not (VrrpStateKind.Backup or VrrpStateKind.Master)) return;
            if (_s.DelayedStartUntil is { } d && now < d) return;

            var sender = packet.SenderAddress;
            var masterChanged = !VrrpReceiveCheck.SameAddress(sender, _s.MasterAddress);
            var checkVips = _s.State == VrrpStateKind.Master || masterChanged || !Cfg.SkipCheckAdvertAddresses;
            var check = VrrpReceiveCheck.Check(packet, Cfg.CheckOptions(), checkVips);
            if (!check.Accepted)
            {
                Count(check.Reason.Counter());
                _actions.Add(new PacketRejected(check.Reason, check.Source));
                return;
            }
            var advert = check.Advert!;
            Count(VrrpCounter.AdvertReceived);
            if (check.AddressListMismatch)
            {
                Count(VrrpCounter.AddressListError);
                _actions.Add(new AddressListMismatch(check.Source, advert.Addresses));
            }
            if (advert.Priority == VrrpConstants.PriorityStop) Count(VrrpCounter.PriorityZeroReceived);

            if (_s.State == VrrpStateKind.Backup) BackupReceive(advert, check.Source);
            else MasterReceive(advert, check.Source);
        }

        private IPAddress NoAddress => Cfg.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6None : IPAddress.None;

        private long AdvertIntervalMicros(VrrpAdvertisement advert) => advert.IntervalCentiseconds * VrrpTiming.MicrosPerCentisecond;

        /// <summary>RFC 6.4.2 "ADVERTISEMENT received" in BACKUP, with keepalived's preempt_delay.</summary>
        private void BackupReceive(VrrpAdvertisement advert, IPAddress? source)
        {
            if (advert.Priority == VrrpConstants.PriorityStop)
            {
                // The master is leaving: take over after Skew_Time only.
                _s = _s with { NextMasterReason = VrrpTransitionReason.PriorityZeroReceived };
                ArmMasterDown(SkewTime());
                return;
            }

            var preemptDelayRunning = Cfg.PreemptDelay > TimeSpan.Zero && (_s.PreemptTime is null || _s.PreemptTime > now);
            if (Cfg.Nopreempt || advert.Priority >= _s.EffectivePriority || preemptDelayRunning)
            {
                // Accept this master. A VRRPv3 backup adopts the master's interval (RFC 5798 6.4.2).
                if (Cfg.Version == VrrpVersion.V3) _s = _s with { MasterAdverIntervalMicros = AdvertIntervalMicros(advert) };
                _s = _s with
                {
                    MasterAddress = source,
                    MasterPriority = advert.Priority,
                    NextMasterReason = VrrpTransitionReason.MasterDownTimerExpired,
                    WantState = VrrpStateKind.Backup,
                    SyncMasterRequested = false,
                };
                if (Cfg.PreemptDelay > TimeSpan.Zero)
                {
                    if (advert.Priority >= _s.EffectivePriority) _s = _s with { PreemptTime = null };
                    else if (_s.PreemptTime is null) _s = _s with { PreemptTime = now + Cfg.PreemptDelay };
                }
                ArmMasterDown(MasterDownTimer());
                return;
            }

            // Preempt: a lower-priority master is ignored, so our master down timer runs out.
            _actions.Add(new LogNote($"received lower priority ({advert.Priority}) advert from {source} - discarding"));
            _s = _s with { MasterAddress = source, NextMasterReason = VrrpTransitionReason.MasterDownTimerExpired };
        }

        /// <summary>RFC 6.4.3 "ADVERTISEMENT received" in MASTER.</summary>
        private void MasterReceive(VrrpAdvertisement advert, IPAddress? source)
        {
            var cmp = CompareWithOurAddress(source);
            var eff = _s.EffectivePriority;
            var theyWin = advert.Priority > eff || (advert.Priority == eff && cmp > 0);

            if (advert.Priority == VrrpConstants.PriorityStop || (Cfg.HigherPrioSendAdvert && theyWin))
            {
                // A backup that saw priority 0 must hear from us at once.
                SendAdvert(eff);
                ArmProtocolTimer(VrrpTimerKind.Advert, Cfg.AdvertIntervalMicros);
                if (advert.Priority == VrrpConstants.PriorityStop) return;
            }

            if (advert.Priority == eff && cmp == 0)
            {
                _actions.Add(new LogNote($"equal priority advert received from {source}, which has our own address"));
                return;
            }

            if (!theyWin)
            {
                // Two masters: the other one has lost the election. Re-advertise so it steps down.
                _actions.Add(new OtherMasterDetected(source ?? NoAddress, advert.Priority));
                Count(VrrpCounter.OtherMasterSeen);
                if (!Cfg.LowerPrioNoAdvert)
                {
                    SendAdvert(eff);
                    ArmProtocolTimer(VrrpTimerKind.Advert, Cfg.AdvertIntervalMicros);
                }
                if (Cfg.GarpLowerPrioRepeat > 0)
                {
                    SendGarp(Cfg.GarpLowerPrioRepeat);
                    if (Cfg.GarpLowerPrioDelay > TimeSpan.Zero) SetTimer(VrrpTimerKind.LowerPriorityGarp, now + Cfg.GarpLowerPrioDelay);
                }
                Notify(VrrpNotifyState.MasterRxLowerPriority);
                return;
            }

            // Outvoted: higher priority, or equal priority and a higher primary address. For a
            // moment there were two masters: say so, whichever side of the split we were on.
            _actions.Add(new OtherMasterDetected(source ?? NoAddress, advert.Priority));
            Count(VrrpCounter.OtherMasterSeen);
            if (Cfg.Version == VrrpVersion.V3) _s = _s with { MasterAdverIntervalMicros = AdvertIntervalMicros(advert) };
            _s = _s with { MasterAddress = source, MasterPriority = advert.Priority, NextMasterReason = VrrpTransitionReason.MasterDownTimerExpired };
            LeaveMaster(VrrpStateKind.Backup, VrrpTransitionReason.HigherPriorityAdvert, sendPriorityZero: false);
        }
    }
}
