namespace Vigil.Hosting;

/// <summary>
/// The retry delay every Vigil loop uses after a failure (a child that exits, an agent that does
/// not answer): <see cref="First"/>, doubled after each further failure up to <see cref="Max"/>,
/// back to <see cref="First"/> once things work again. Not thread-safe: one per loop.
/// </summary>
public sealed class Backoff(TimeSpan first, TimeSpan max)
{
    public TimeSpan First { get; } = first > TimeSpan.Zero && first <= max ? first : throw new ArgumentOutOfRangeException(nameof(first), first, "must be positive and at most max");

    public TimeSpan Max { get; } = max;

    /// <summary>The delay before the next attempt.</summary>
    public TimeSpan Current { get; private set; } = first;

    /// <summary>Another failure: the next delay doubles, up to <see cref="Max"/>.</summary>
    public void Grow() => Current = TimeSpan.FromTicks(Math.Min(Current.Ticks * 2, Max.Ticks));

    /// <summary>It worked: the next failure waits <see cref="First"/> again.</summary>
    public void Reset() => Current = First;
}
