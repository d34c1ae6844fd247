namespace Vigil.Config.Parsing;

public static partial class KeywordTable
{
    private delegate void AddKeywords(BlockContext ctx, KeywordShape shape, BlockContext? child, KeywordSupport support, string? note, params string[] names);

    private delegate void AddLeaves(BlockContext ctx, params string[] names);

    /// <summary>
    /// The top-level consul { } block, Vigil's own (keepalived does not know it):
    /// <code>
    /// consul {
    ///     address 127.0.0.1:8500 | http(s)://host:port
    ///     token TOKEN
    ///     datacenter DC
    ///     tls { ca_file FILE  cert_file FILE  key_file FILE  server_name NAME }
    ///     service_name NAME
    ///     tags TAG...
    ///     ttl 15s
    ///     deregister_critical_after 1m
    ///     virtual_servers on|off
    /// }
    /// </code>
    /// </summary>
    private static void ConsulKeywords(AddKeywords add, AddLeaves leaf)
    {
        add(BlockContext.Root, KeywordShape.Block, BlockContext.Consul, KeywordSupport.Supported, "a Vigil extension (keepalived does not know it)", "consul");
        leaf(BlockContext.Consul, "address", "token", "datacenter", "service_name", "tags", "ttl", "deregister_critical_after", "virtual_servers");
        add(BlockContext.Consul, KeywordShape.Block, BlockContext.ConsulTls, KeywordSupport.Supported, null, "tls");
        leaf(BlockContext.ConsulTls, "ca_file", "cert_file", "key_file", "server_name");
    }
}
