namespace Vigil.Config.Parsing;

/// <summary>
/// One thing keepalived.conf can say that Vigil reads into its model but no daemon acts on yet
/// (or acts on only in part). <see cref="Missing"/> null: the keyword is ignored as a whole;
/// otherwise it says what part is missing. <see cref="Applies"/> narrows an entry to some
/// values of the keyword (auth_type AH).
/// </summary>
public sealed record UnimplementedFeature(BlockContext Context, string Keyword, string? Missing = null, Func<ConfigNode, bool>? Applies = null)
{
    /// <summary>The warning -t prints at the keyword's file:line.</summary>
    public string Message => Missing is null
        ? $"'{Keyword}' is not supported yet by Vigil - ignored"
        : $"'{Keyword}' is not fully supported yet by Vigil: {Missing}";
}

/// <summary>
/// THE list of what is parsed but not acted on: every entry is reported by <c>vigil-controld -t</c>
/// (and at every load) as a warning naming the keyword at its file:line. keepalived accepts
/// these, so they never change the exit status. Found by comparing the model with what
/// services/controld/Dispatch maps and what the daemons read. Delete an entry when its feature
/// lands (and the warning goes with it).
/// </summary>
public static class Unimplemented
{
    private const BlockContext R = BlockContext.Root;
    private const BlockContext G = BlockContext.GlobalDefs;
    private const BlockContext V = BlockContext.VrrpInstance;
    private const BlockContext S = BlockContext.SyncGroup;

    /// <summary>use_vmac on an IPv6 instance: only the completed model knows the family, so the builder reports this one.</summary>
    public static readonly UnimplementedFeature UseVmacIpv6 = new(V, "use_vmac", "vigil-vrrpd has no IPv6 VMAC, so vigil-vrrpd refuses this instance (the others run)");

    /// <summary>
    /// A line of virtual_routes with parts vigil-vrrpd does not install (RoutingParts lists
    /// them); the builder reports it, as it alone has the parsed route.
    /// </summary>
    public static readonly UnimplementedFeature VirtualRouteParts = new(V, "virtual_routes", "vigil-vrrpd leaves out");

    /// <summary>A line of virtual_rules with parts vigil-vrrpd does not install.</summary>
    public static readonly UnimplementedFeature VirtualRuleParts = new(V, "virtual_rules", "vigil-vrrpd leaves out");

    /// <summary>The warning for a route or rule line, naming the parts left out.</summary>
    public static string PartsMessage(UnimplementedFeature feature, IReadOnlyList<string> parts) =>
        $"{feature.Message}: {string.Join(", ", parts)}";

    private static readonly UnimplementedFeature[] Keywords =
    [
        // BFD, ipvlan, VRF: the features FEATURES.md lists that no daemon has yet.
        new(V, "track_bfd"), new(S, "track_bfd"), new(R, "bfd_instance"), new(BlockContext.RealServer, "BFD_CHECK"),
        new(V, "use_ipvlan"), new(V, "vrf"), new(R, "interface_up_down_delays"),

        // Process tracking: vigil-vrrpd has no process monitor.
        new(R, "vrrp_track_process"), new(V, "track_process"), new(S, "track_process"),

        // Addresses, routes and rules outside VRRP: nothing installs them.
        new(R, "static_ipaddress"), new(R, "static_routes"), new(R, "static_rules"),

        // vigil-vrrpd refuses these; the instance does not run (the others do).
        new(BlockContext.Authentication, "auth_type", "AH (IPsec authentication header) is not implemented, so vigil-vrrpd refuses this instance (the others run)",
            n => string.Equals(n.Arg(0), "AH", StringComparison.OrdinalIgnoreCase)),
        new(V, "vmac_xmit_base", "vigil-vrrpd refuses it, so this instance does not run (the others do)"),

        // Strict mode: the RFC checks are made, the firewall part is not.
        new(G, "vrrp_strict", "the protocol checks are made, but no firewall rules are added (the VIPs accept traffic)"),
        new(V, "strict_mode", "the protocol checks are made, but no firewall rules are added (the VIPs accept traffic)"),
        // Vigil adds no firewall rules, so VIPs always accept traffic (keepalived's "accept").
        new(V, "no_accept"),

        // Gratuitous ARP / NA pacing: vigil-vrrpd sends each burst at once.
        new(G, "vrrp_garp_interval"), new(G, "vrrp_gna_interval"), new(R, "garp_group"),
        new(G, "vrrp_min_garp"), new(V, "garp_extra_if"), new(G, "vrrp_garp_extra_if"), new(V, "vmac_garp_intvl"), new(G, "vrrp_vmac_garp_intvl"),

        // Mail on VRRP state changes: only checkd sends mail.
        new(V, "smtp_alert"), new(S, "smtp_alert"), new(G, "smtp_alert_vrrp"),
        new(G, "smtp_alert", "mail is sent for checker changes only, not for VRRP state changes"),
        new(G, "no_email_faults"),

        // Instance options controld does not map to vigil-vrrpd.
        new(V, "track_src_ip"), new(V, "unicast_fault_no_peer"), new(V, "old_unicast_checksum"), new(V, "promote_secondaries"),
        new(V, "notify_priority_changes"), new(S, "notify_priority_changes"), new(G, "vrrp_notify_priority_changes"),
        new(S, "sync_group_tracking_weight"), new(V, "use_vmac_addr"), new(V, "native_ipv6"), new(V, "kernel_rx_buf_size"),
        new(R, "track_group"),
        new(G, "vmac_prefix"), new(G, "vmac_addr_prefix"), new(G, "fifo_write_vrrp_states_on_reload"),

        // Scripts of keepalived's own start and stop: controld runs none.
        new(G, "startup_script"), new(G, "shutdown_script"),
    ];

    private static readonly Dictionary<(BlockContext, string), UnimplementedFeature> ByKeyword =
        Keywords.ToDictionary(e => (e.Context, e.Keyword));

    /// <summary>Every entry, for documentation and tests.</summary>
    public static IReadOnlyList<UnimplementedFeature> All { get; } = [.. Keywords, UseVmacIpv6, VirtualRouteParts, VirtualRuleParts];

    /// <summary>The entry that applies to this keyword line, or null.</summary>
    public static UnimplementedFeature? For(ConfigNode node) =>
        ByKeyword.TryGetValue((node.Context, node.Keyword), out var e) && (e.Applies?.Invoke(node) ?? true) ? e : null;
}
