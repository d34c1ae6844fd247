namespace Vigil.Checkd.Model;

/// <summary>
/// The timings a checker runs with once the inheritance chain checker -> real server -> virtual
/// server -> type default is resolved (keepalived's validate_check_config):
/// retry defaults to 1 (DNS_CHECK 3, MISC_CHECK 0); delay_before_retry to 1 s (HTTP_GET/SSL_GET
/// 3 s, DNS_CHECK delay_loop); warmup to delay_loop; misc_timeout to the virtual server's
/// delay_loop.
/// </summary>
public sealed record CheckerTiming(
    TimeSpan DelayLoop,
    TimeSpan Warmup,
    int Retry,
    TimeSpan DelayBeforeRetry,
    TimeSpan ConnectTimeout,
    bool Alpha,
    bool LogAllFailures)
{
    public static CheckerTiming Resolve(VirtualServerConfig vs, RealServerConfig rs, CheckerConfig checker, bool globalLogAllFailures = false)
    {
        var delayLoop = checker.DelayLoop ?? rs.DelayLoop ?? vs.DelayLoop;
        var retry = checker.Retry ?? rs.Retry ?? vs.Retry ?? checker.Type switch
        {
            CheckType.Dns => 3,
            CheckType.Misc => 0,
            _ => 1,
        };
        var delayBeforeRetry = checker.DelayBeforeRetry ?? rs.DelayBeforeRetry ?? vs.DelayBeforeRetry ?? checker.Type switch
        {
            CheckType.Http or CheckType.Ssl => TimeSpan.FromSeconds(3),
            CheckType.Dns => delayLoop,
            _ => TimeSpan.FromSeconds(1),
        };
        var warmup = checker.Warmup ?? rs.Warmup ?? vs.Warmup ?? delayLoop;
        var connectTimeout = (checker as NetworkCheckerConfig)?.Connection.ConnectTimeout ?? rs.ConnectTimeout ?? vs.ConnectTimeout;
        // A FILE_CHECK knows its state at once: never alpha.
        var alpha = checker.Type != CheckType.File && (checker.Alpha ?? rs.Alpha ?? vs.Alpha);
        return new CheckerTiming(delayLoop, warmup, retry, delayBeforeRetry, connectTimeout, alpha, checker.LogAllFailures || globalLogAllFailures);
    }
}
