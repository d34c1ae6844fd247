namespace Vigil.Vrrpd.Engine;

/// <summary>
/// One tracked object's current result as it bears on one instance: an interface, script,
/// process or BFD session (up or down), or a tracked file (its integer value).
/// </summary>
/// <param name="Weight">the configured weight; 0 means "failure puts the instance in FAULT".</param>
/// <param name="Reverse">the <c>reverse</c> keyword: up counts as failure and the weight's sign flips.</param>
public sealed record TrackedItem(string Name, int Weight, bool Reverse = false, bool Up = true, long? FileValue = null);

/// <summary>
/// Folds tracker results into what <see cref="TrackersChangedEvent"/> carries, with keepalived's
/// rules (vrrp_track.c): with weight w and multiplier m (-1 when reversed),
/// a positive weight adds w x m while the item is up, a negative weight adds w x m while it is
/// down, weight 0 faults the instance when the item is down (up, if reversed); a tracked file
/// adds value x w x m (capped at 253), or faults at -254 or below, and with weight 0 faults on
/// any non-zero value (zero, if reversed).
/// </summary>
public static class TrackerAggregate
{
    public static (int WeightSum, int FaultCount) Compute(IEnumerable<TrackedItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var sum = 0;
        var faults = 0;
        foreach (var item in items)
        {
            var m = item.Reverse ? -1 : 1;
            if (item.FileValue is { } value)
            {
                long status = item.Weight == 0
                    ? ((value != 0) == (m == 1) ? -254 : 0)
                    : value * item.Weight * m;
                if (status <= -254) faults++;
                else sum += (int)Math.Min(status, 253);
                continue;
            }
            if (item.Weight == 0)
            {
                if (item.Up != (m == 1)) faults++;
            }
            else if (item.Up ? item.Weight > 0 : item.Weight < 0)
            {
                sum += item.Weight * m;
            }
        }
        return (sum, faults);
    }

    public static TrackersChangedEvent ToEvent(IEnumerable<TrackedItem> items)
    {
        var (sum, faults) = Compute(items);
        return new TrackersChangedEvent(sum, faults);
    }
}
