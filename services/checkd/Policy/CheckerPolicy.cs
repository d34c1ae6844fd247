using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Policy;

/// <summary>A checker's state between runs (keepalived's checker_t counters).</summary>
public readonly record struct CheckerState
{
    /// <summary>keepalived's is_up: the checker currently counts as passing.</summary>
    public bool Up { get; init; }

    /// <summary>A result has been taken into account (has_run).</summary>
    public bool HasRun { get; init; }

    /// <summary>Retries done since the last success (retry_it).</summary>
    public int RetryCount { get; init; }

    /// <summary>HTTP_GET/SSL_GET: the URL the next run fetches.</summary>
    public int UrlIndex { get; init; }

    /// <summary>HTTP_GET/SSL_GET: the URL that failed, retried until it passes.</summary>
    public int? FailedUrl { get; init; }

    /// <summary>MISC_CHECK: the last exit status (keepalived starts from 0).</summary>
    public int LastExitStatus { get; init; }

    /// <summary>MISC_CHECK with misc_dynamic: the weight the last exit status asks for
    /// (status - 2); null: none (exit 0, or after a failure).</summary>
    public int? DynamicWeight { get; init; }

    /// <summary>FILE_CHECK: the weight the tracked file adds (value x weight).</summary>
    public long FileWeight { get; init; }

    /// <summary>The state before any result: up unless alpha, and with retry_it = retry so that
    /// the first failure is enough (keepalived's validate_check_config).</summary>
    public static CheckerState Initial(CheckerTiming timing) => new()
    {
        Up = !timing.Alpha,
        RetryCount = timing.Retry,
    };
}

/// <summary>What a result changes.</summary>
public enum CheckerTransition
{
    None,
    Up,
    Down,
}

/// <summary>The outcome of feeding one probe result to a checker's state.</summary>
public readonly record struct CheckerDecision(CheckerState State, CheckerTransition Transition, TimeSpan NextDelay)
{
    /// <summary>The first result confirmed the initial state: keepalived runs the real server's
    /// notify script when that state is down, or the checker is alpha.</summary>
    public bool FirstResultConfirmed { get; init; }

    /// <summary>A failure that only used up a retry (logged when log_all_failures).</summary>
    public bool RetryScheduled { get; init; }

    /// <summary>MISC_CHECK: the next run counts from the start of this one (keepalived's
    /// last_ran), not from its end.</summary>
    public bool DelayFromRunStart { get; init; }

    /// <summary>The checker's contribution to the real server's weight changed.</summary>
    public bool WeightChanged { get; init; }
}

/// <summary>
/// The retry/delay state machines of keepalived's checkers, as pure functions of (state, result,
/// timing). Each mirrors its checker's epilog in keepalived/check/check_*.c so that the number of
/// attempts and the delays between them are the same: after a success, a failing service is
/// retried <c>retry</c> times <c>delay_before_retry</c> apart and goes down on the
/// (retry+1)-th failure; before any result one failure is enough; a down service is probed every
/// <c>delay_loop</c>.
/// </summary>
public static class CheckerPolicy
{
    /// <summary>TCP_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK, DNS_CHECK (tcp_epilog and its twins).</summary>
    public static CheckerDecision OnResult(CheckerState state, ProbeResult result, CheckerTiming timing)
    {
        if (result.Outcome == ProbeOutcome.LocalError)
        {
            // keepalived: "socket bind failed. Rescheduling." - not counted.
            return new CheckerDecision(state, CheckerTransition.None, timing.DelayLoop);
        }
        var success = result.IsSuccess;
        var delay = timing.DelayLoop;
        var next = state;
        var transition = CheckerTransition.None;
        var confirmed = false;
        var retrying = false;
        if (success || ((state.Up || !state.HasRun) && state.RetryCount >= timing.Retry))
        {
            next = next with { RetryCount = 0 };
            if (success && (!state.Up || !state.HasRun))
            {
                if (state.Up) confirmed = true;
                else transition = CheckerTransition.Up;
            }
            else if (!success && (state.Up || !state.HasRun))
            {
                if (state.Up) transition = CheckerTransition.Down;
                else confirmed = true;
            }
        }
        else if (state.Up)
        {
            delay = timing.DelayBeforeRetry;
            next = next with { RetryCount = state.RetryCount + 1 };
            retrying = true;
        }
        next = next with { HasRun = true, Up = transition switch { CheckerTransition.Up => true, CheckerTransition.Down => false, _ => state.Up } };
        return new CheckerDecision(next, transition, delay) { FirstResultConfirmed = confirmed, RetryScheduled = retrying };
    }

    /// <summary>
    /// HTTP_GET / SSL_GET (check_http.c epilog): one URL per run, delay_loop apart. A failing URL
    /// is retried <c>retry</c> times <c>delay_before_retry</c> apart, then the checker goes down
    /// and that URL is retried every max(delay_before_retry, delay_loop); once it passes, all URLs
    /// are walked again from the first and the checker comes up after the last one passes
    /// (without delays in between with <c>fast_recovery</c>).
    /// </summary>
    public static CheckerDecision OnHttpResult(CheckerState state, ProbeResult result, int urlCount, CheckerTiming timing, bool fastRecovery)
    {
        if (result.Outcome == ProbeOutcome.LocalError)
        {
            return new CheckerDecision(state, CheckerTransition.None, timing.DelayLoop);
        }
        var next = state;
        var transition = CheckerTransition.None;
        var confirmed = false;
        var retrying = false;
        TimeSpan delay;
        if (result.IsSuccess)
        {
            var urlIndex = state.UrlIndex + 1;
            next = next with { UrlIndex = urlIndex, RetryCount = 0 };
            if (urlIndex >= urlCount && state.FailedUrl is null)
            {
                // Every URL passed in turn.
                if (!state.Up || !state.HasRun)
                {
                    if (state.Up) confirmed = true;
                    else transition = CheckerTransition.Up;
                    next = next with { HasRun = true };
                }
                next = next with { UrlIndex = 0, RetryCount = 0 };
            }
            else if (state.FailedUrl is not null)
            {
                // The failed URL passes again: check them all from the first.
                next = next with { FailedUrl = null, UrlIndex = 0, RetryCount = 0 };
            }
            delay = timing.DelayLoop;
            if (!next.HasRun) next = next with { RetryCount = timing.Retry };
        }
        else if (state.Up || !state.HasRun)
        {
            next = next with { HasRun = true, RetryCount = state.RetryCount + 1 };
            if (next.RetryCount > timing.Retry)
            {
                if (state.Up) transition = CheckerTransition.Down;
                next = next with { FailedUrl = state.UrlIndex };
            }
            else
            {
                retrying = true;
            }
            delay = next.FailedUrl is not null ? Max(timing.DelayBeforeRetry, timing.DelayLoop) : timing.DelayBeforeRetry;
        }
        else
        {
            // Already down: no retry counting.
            delay = state.FailedUrl is not null ? Max(timing.DelayBeforeRetry, timing.DelayLoop) : timing.DelayBeforeRetry;
        }
        var up = transition switch { CheckerTransition.Up => true, CheckerTransition.Down => false, _ => state.Up };
        next = next with { Up = up };
        if (fastRecovery && (!next.HasRun || (!next.Up && next.FailedUrl is null))) delay = TimeSpan.Zero;
        return new CheckerDecision(next, transition, delay) { FirstResultConfirmed = confirmed, RetryScheduled = retrying };
    }

    /// <summary>
    /// MISC_CHECK (check_misc.c misc_check_child_thread). Exit 0, or 2..255 with misc_dynamic, is
    /// a success; with misc_dynamic the real server's weight becomes status - 2 (exit 0 restores
    /// the configured weight). A failure uses up a retry, then takes the checker down and drops
    /// its weight. The next run is delay_before_retry after the start of this one while retrying,
    /// delay_loop otherwise.
    /// </summary>
    public static CheckerDecision OnMiscResult(CheckerState state, ProbeResult result, bool dynamic, CheckerTiming timing)
    {
        if (result.Outcome == ProbeOutcome.LocalError)
        {
            return new CheckerDecision(state, CheckerTransition.None, timing.DelayLoop) { DelayFromRunStart = true };
        }
        var next = state;
        var transition = CheckerTransition.None;
        var confirmed = false;
        var retrying = false;
        var weightChanged = false;
        // The probe already applied misc_dynamic's rule (0, or 2..255 when dynamic, is a success).
        var status = result.ExitStatus;
        if (result.IsSuccess)
        {
            var exit = status ?? 0;
            if (exit != state.LastExitStatus)
            {
                int? dynamicWeight = dynamic && exit != 0 ? exit - 2 : null;
                weightChanged = dynamicWeight != state.DynamicWeight;
                next = next with { LastExitStatus = exit, DynamicWeight = dynamicWeight };
            }
            if (!state.Up || !state.HasRun)
            {
                if (state.Up) confirmed = true;
                else transition = CheckerTransition.Up;
            }
            next = next with { RetryCount = 0 };
        }
        else if (state.Up || !state.HasRun)
        {
            if (state.RetryCount < timing.Retry)
            {
                next = next with { RetryCount = state.RetryCount + 1 };
                retrying = true;
            }
            else
            {
                weightChanged = state.DynamicWeight is not null;
                next = next with { RetryCount = 0, DynamicWeight = null, LastExitStatus = status ?? state.LastExitStatus };
                if (state.Up) transition = CheckerTransition.Down;
                else confirmed = true;
            }
        }
        else if (status is int s)
        {
            next = next with { LastExitStatus = s };
        }
        var up = transition switch { CheckerTransition.Up => true, CheckerTransition.Down => false, _ => state.Up };
        next = next with { Up = up, HasRun = true };
        var delay = next.RetryCount > 0 ? timing.DelayBeforeRetry : timing.DelayLoop;
        return new CheckerDecision(next, transition, delay)
        {
            FirstResultConfirmed = confirmed,
            RetryScheduled = retrying,
            DelayFromRunStart = true,
            WeightChanged = weightChanged,
        };
    }

    /// <summary>
    /// FILE_CHECK (track_file.c): the value read times the weight (negated with reverse) is added
    /// to the real server's weight. With weight 0 a non-zero value (zero with reverse) is a fault
    /// and takes the checker down, as does a product at or below -2^31. No retries: the state
    /// follows the file.
    /// </summary>
    public static CheckerDecision OnFileValue(CheckerState state, ProbeResult result, int weight, bool reverse, CheckerTiming timing)
    {
        if (result.Outcome != ProbeOutcome.Success || result.Value is not long value)
        {
            return new CheckerDecision(state with { HasRun = true }, CheckerTransition.None, timing.DelayLoop);
        }
        var (fault, contribution) = FileStatus(value, weight, reverse);
        var transition = CheckerTransition.None;
        if (fault && state.Up) transition = CheckerTransition.Down;
        else if (!fault && !state.Up) transition = CheckerTransition.Up;
        var next = state with { Up = !fault, HasRun = true, FileWeight = fault ? 0 : contribution };
        return new CheckerDecision(next, transition, timing.DelayLoop) { WeightChanged = next.FileWeight != state.FileWeight };
    }

    /// <summary>(fault, weight contribution) of a tracked file's value.</summary>
    public static (bool Fault, long Weight) FileStatus(long value, int weight, bool reverse)
    {
        if (weight == 0) return ((value != 0) != reverse, 0);
        var product = Math.Clamp(value * weight * (reverse ? -1 : 1), int.MinValue, int.MaxValue);
        return product <= int.MinValue ? (true, 0) : (false, product);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
