using Vigil.Hosting;

namespace Vigil.Hosting.Tests;

public sealed class BackoffTests
{
    [Fact]
    public void Grow_DoublesUpToMax_ResetStartsAgain()
    {
        var b = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        var seen = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            seen.Add(b.Current.TotalSeconds);
            b.Grow();
        }
        Assert.Equal([1, 2, 4, 5, 5], seen);
        b.Reset();
        Assert.Equal(TimeSpan.FromSeconds(1), b.Current);
    }

    [Fact]
    public void New_FirstNotPositiveOrOverMax_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }
}
