using Vigil.Config.Model;
using Vigil.Config.Output;
using Vigil.Config.Parsing;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>
/// Every configuration of tests/Config (the team's corpus, and the configurations extracted from
/// the seed articles and scenarios.md) parses with the values, diagnostics and exit status its
/// "#@" lines state, and prints back to text that reads to an equal model.
/// </summary>
public sealed class CorpusTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var dir in new[] { "corpus", "seeds", "seeds/verbatim", "scenarios" })
        {
            var path = Path.Combine(TestSupport.ConfigDir, dir);
            if (!Directory.Exists(path)) continue;
            foreach (var f in Directory.GetFiles(path, "*.conf").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetRelativePath(TestSupport.ConfigDir, f));
            }
        }
        return data;
    }

    internal static ConfigLoadResult Load(string relative, out Expectations expectations)
    {
        var path = Path.Combine(TestSupport.ConfigDir, relative);
        expectations = Expectations.Read(path);
        return ConfigLoader.Load(path, new ConfigLoadOptions { ConfigId = expectations.ConfigId, RandomSeed = 1 });
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Load_CorpusFile_MatchesItsExpectations(string file)
    {
        var result = Load(file, out var expectations);
        var failures = expectations.Check(file, result);
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n--- diagnostics:\n" + TestSupport.Describe(result.Diagnostics));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Write_CorpusModel_ReadsBackToAnEqualModel(string file)
    {
        var result = Load(file, out _);
        if (result.Config is not { } config) return;
        var text = ConfigWriter.Write(config);
        var again = ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new InMemoryFileSystem() });
        Assert.NotNull(again.Config);
        if (again.Config != config)
        {
            Assert.Fail($"round trip differs:\n{TestSupport.JsonDifference(config, again.Config!)}\n--- text:\n{text}");
        }
        // The printed text is clean: nothing keepalived would report except scripts without script security.
        Assert.All(again.Reported(), d => Assert.Equal(Vigil.Config.Diagnostics.ConfigErrorClass.SecurityError, d.Class));
    }

    [Fact]
    public void Corpus_HasAtLeastThirtyConfigurationsWithAssertedValues()
    {
        var files = Directory.GetFiles(Path.Combine(TestSupport.ConfigDir, "corpus"), "*.conf");
        Assert.True(files.Length >= 30, $"only {files.Length} corpus configurations");
        foreach (var f in files)
        {
            Assert.True(Expectations.Read(f).Values.Count >= 3, $"{Path.GetFileName(f)} asserts fewer than 3 model values");
        }
    }

    /// <summary>The configuration keywords FEATURES.md names; the corpus must use every one.</summary>
    private static readonly string[] FeatureKeywords =
    [
        "include", "includer", "includem", "includew", "includeb", "includea",
        "version", "vrrp_version", "vrrp_mcast_group4", "vrrp_mcast_group6", "mcast_src_ip", "unicast_src_ip", "unicast_peer",
        "unicast_ttl", "check_unicast_src", "unicast_fault_no_peer", "interface", "virtual_router_id", "state", "priority",
        "advert_int", "authentication", "auth_type", "auth_pass", "nopreempt", "preempt", "preempt_delay", "track_interface",
        "track_script", "vrrp_script", "script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail",
        "track_file", "vrrp_track_file", "file", "init_file", "track_process", "vrrp_track_process", "process", "param_match",
        "quorum", "quorum_max", "delay", "fork_delay", "terminate_delay", "full_command", "track_bfd", "dont_track_primary",
        "vrrp_sync_group", "group", "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify_deleted", "notify",
        "notify_master_rx_lower_pri", "smtp_alert", "notify_fifo", "vrrp_notify_fifo", "script_user", "enable_script_security",
        "use_vmac", "vmac_xmit_base", "use_ipvlan", "garp_master_delay", "garp_master_repeat", "garp_master_refresh",
        "garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat", "garp_interval", "gna_interval",
        "vrrp_garp_master_delay", "vrrp_garp_master_repeat", "vrrp_garp_master_refresh", "vrrp_garp_master_refresh_repeat",
        "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat", "vrrp_garp_interval", "vrrp_gna_interval",
        "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules", "static_ipaddress", "static_routes",
        "static_rules", "vrrp_strict", "strict_mode", "accept", "no_accept", "lower_prio_no_advert", "higher_prio_send_advert",
        "down_timer_adverts", "vrrp_startup_delay", "log_unknown_vrids", "v3_checksum_as_v2",
        "TCP_CHECK", "HTTP_GET", "SSL_GET", "url", "path", "digest", "status_code", "virtualhost", "regex", "http_protocol",
        "enable_sni", "SMTP_CHECK", "helo_name", "DNS_CHECK", "type", "name", "MISC_CHECK", "misc_path", "misc_timeout",
        "misc_dynamic", "PING_CHECK", "UDP_CHECK", "payload", "require_reply", "FILE_CHECK", "BFD_CHECK", "connect_ip",
        "connect_port", "bindto", "bind_port", "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "warmup",
        "delay_loop", "alpha", "log_all_failures", "omega", "hysteresis", "quorum_up", "quorum_down", "inhibit_on_failure",
        "sorry_server", "sorry_server_inhibit", "ha_suspend", "notify_up", "notify_down", "notification_email",
        "notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout", "virtual_server",
        "virtual_server_group", "lb_algo", "lvs_sched", "ops", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "lb_kind",
        "lvs_method", "persistence_timeout", "persistence_granularity", "protocol", "ip_family", "real_server", "uthreshold",
        "lthreshold", "lvs_sync_daemon", "lvs_timeouts", "lvs_flush", "lvs_flush_on_stop", "nftables_ipvs",
    ];

    [Fact]
    public void Corpus_UsesEveryKeywordOfFeaturesMd()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in Directory.GetFiles(Path.Combine(TestSupport.ConfigDir, "corpus"), "*.conf"))
        {
            foreach (var line in File.ReadLines(f))
            {
                var text = line.Split('#', '!')[0];
                foreach (var word in text.Split([' ', '\t', '{', '}'], StringSplitOptions.RemoveEmptyEntries)) used.Add(word);
            }
        }
        var missing = FeatureKeywords.Where(k => !used.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "corpus lacks: " + string.Join(", ", missing));
    }
}
