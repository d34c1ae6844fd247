namespace Vigil.Vrrpd.Engine;

/// <summary>The words keepalived's users know, for log lines, notify scripts and the API.</summary>
public static class VrrpText
{
    /// <summary>"MASTER", "BACKUP", "FAULT", "STOP", "INIT" (keepalived's spelling).</summary>
    public static string State(VrrpStateKind state) => state switch
    {
        VrrpStateKind.Init => "INIT",
        VrrpStateKind.Backup => "BACKUP",
        VrrpStateKind.Master => "MASTER",
        VrrpStateKind.Fault => "FAULT",
        VrrpStateKind.Stopped => "STOP",
        _ => state.ToString().ToUpperInvariant(),
    };

    /// <summary>Why a transition happened, in words ("master down timer expired").</summary>
    public static string Reason(VrrpTransitionReason reason) => reason switch
    {
        VrrpTransitionReason.Startup => "startup",
        VrrpTransitionReason.MasterDownTimerExpired => "master down timer expired",
        VrrpTransitionReason.PriorityZeroReceived => "master sent priority 0",
        VrrpTransitionReason.HigherPriorityAdvert => "higher priority advert received",
        VrrpTransitionReason.AddressOwner => "address owner",
        VrrpTransitionReason.InterfaceDown => "interface down",
        VrrpTransitionReason.InterfaceUp => "interface up",
        VrrpTransitionReason.TrackerFault => "tracked object failed",
        VrrpTransitionReason.TrackerRecovered => "tracked objects recovered",
        VrrpTransitionReason.NoSourceAddress => "no source address",
        VrrpTransitionReason.SourceAddressRestored => "source address restored",
        VrrpTransitionReason.SyncGroup => "sync group",
        VrrpTransitionReason.Shutdown => "shutdown",
        _ => reason.ToString(),
    };

    /// <summary>Why an instance is in FAULT, one phrase per cause.</summary>
    public static IReadOnlyList<string> Faults(VrrpFaults faults)
    {
        var list = new List<string>();
        if ((faults & VrrpFaults.InterfaceDown) != 0) list.Add("interface down");
        if ((faults & VrrpFaults.Tracker) != 0) list.Add("tracker");
        if ((faults & VrrpFaults.NoSourceAddress) != 0) list.Add("no source address");
        return list;
    }

    /// <summary>What a notify script / FIFO line says for a notify state.</summary>
    public static string Notify(VrrpNotifyState state) => state switch
    {
        VrrpNotifyState.Master => "MASTER",
        VrrpNotifyState.Backup => "BACKUP",
        VrrpNotifyState.Fault => "FAULT",
        VrrpNotifyState.Stop => "STOP",
        VrrpNotifyState.Deleted => "DELETED",
        VrrpNotifyState.MasterRxLowerPriority => "MASTER_RX_LOWER_PRI",
        _ => state.ToString().ToUpperInvariant(),
    };
}
