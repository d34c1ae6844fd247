using System.Diagnostics.Metrics;
using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Engine;

/// <summary>
/// checkd's instruments, on the daemon's Meter (Vigil.Hosting exports them): each probe's result
/// and latency by checker type and outcome (Prometheus: vigil_check_probe_duration_seconds,
/// vigil_check_probe_results_total), and the engine's counters (transitions, scripts, alerts).
/// keepalived-exporter has no checker metrics, so these are all vigil_check_*.
/// </summary>
public sealed class CheckMetrics
{
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _results;

    public CheckMetrics(Meter meter, Func<EngineCounters> counters)
    {
        _duration = meter.CreateHistogram<double>("vigil_check_probe_duration", "s", "How long a health check took, by checker type and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _results = meter.CreateCounter<long>("vigil_check_probe_results", description: "Health check results, by checker type and outcome (success, failure, local_error)");
        meter.CreateObservableCounter("vigil_check_checker_transitions", () => counters().CheckerTransitions, description: "Checkers that went up or down");
        meter.CreateObservableCounter("vigil_check_real_server_transitions", () => counters().RealServerTransitions, description: "Real servers that went up or down");
        meter.CreateObservableCounter("vigil_check_quorum_transitions", () => counters().QuorumTransitions, description: "Virtual servers whose quorum was gained or lost");
        meter.CreateObservableCounter("vigil_check_scripts_run", () => counters().ScriptsRun, description: "Notify and MISC_CHECK scripts run");
        meter.CreateObservableCounter("vigil_check_scripts_failed", () => counters().ScriptsFailed, description: "Scripts that could not run or failed");
        meter.CreateObservableCounter("vigil_check_alerts_queued", () => counters().AlertsQueued, description: "SMTP alerts queued");
        meter.CreateObservableCounter("vigil_check_malformed_replies", () => counters().MalformedReplies, description: "Replies a probe could not parse");
    }

    public void OnProbe(CheckerConfig checker, ProbeResult result, TimeSpan duration)
    {
        var type = new KeyValuePair<string, object?>("checker", TypeOf(checker));
        var outcome = new KeyValuePair<string, object?>("outcome", result.Outcome switch
        {
            ProbeOutcome.Success => "success",
            ProbeOutcome.Failure => "failure",
            _ => "local_error",
        });
        _results.Add(1, type, outcome);
        _duration.Record(duration.TotalSeconds, type, outcome);
    }

    /// <summary>keepalived's keyword of the checker (HTTP_GET, TCP_CHECK, ...), from its config type's name.</summary>
    private static string TypeOf(CheckerConfig checker)
    {
        var name = checker.GetType().Name;
        return name.EndsWith("CheckConfig", StringComparison.Ordinal) ? name[..^"CheckConfig".Length].ToLowerInvariant() : name;
    }
}
