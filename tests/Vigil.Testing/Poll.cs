namespace Vigil.Testing;

/// <summary>Waits for observable state with a deadline, instead of sleeping a fixed time.</summary>
public static class Poll
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls until the condition holds; throws a TimeoutException naming what was awaited.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<Task<string>>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition()) return;
                last = null;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = e;
            }
            if (DateTime.UtcNow >= deadline)
            {
                var extra = diagnostics is null ? "" : "\n" + await diagnostics();
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.##} s waiting for {what}{(last is null ? "" : $" (last error: {last.Message})")}{extra}");
            }
            await Task.Delay(DefaultInterval);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, diagnostics is null ? null : () => Task.FromResult(diagnostics()));

    /// <summary>Polls a value until the predicate accepts it and returns that value.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> read, Func<T, bool> accept, TimeSpan timeout, string what)
    {
        T value = default!;
        await UntilAsync(async () => accept(value = await read()), timeout, what, () => Task.FromResult($"last value: {value}"));
        return value;
    }

    /// <summary>Asserts the condition holds during the whole period (for "nothing changes" checks).</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan period, string what)
    {
        var end = DateTime.UtcNow + period;
        while (DateTime.UtcNow < end)
        {
            if (!await condition()) throw new InvalidOperationException($"{what} stopped holding");
            await Task.Delay(DefaultInterval);
        }
    }
}
