namespace Vigil.Config.Parsing;

public static partial class KeywordTable
{
    /// <summary>
    /// The top-level metrics { } block, Vigil's own (keepalived does not know it):
    /// <code>
    /// metrics {
    ///     prometheus_address 127.0.0.1:9650   # controld; vrrpd, checkd, ipvsd on the next three ports
    ///     otlp_endpoint http://127.0.0.1:4317
    ///     otlp_protocol grpc | http/protobuf
    ///     otlp_headers "key=value,key2=value2"
    ///     otlp_interval 60s
    /// }
    /// </code>
    /// </summary>
    private static void MetricsKeywords(AddKeywords add, AddLeaves leaf)
    {
        add(BlockContext.Root, KeywordShape.Block, BlockContext.Metrics, KeywordSupport.Supported, "a Vigil extension (keepalived does not know it)", "metrics");
        leaf(BlockContext.Metrics, "prometheus_address", "otlp_endpoint", "otlp_protocol", "otlp_headers", "otlp_interval");
    }
}
