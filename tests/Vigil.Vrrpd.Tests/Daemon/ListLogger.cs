using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>An ILogger that keeps every formatted line, for assertions and failure messages.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue($"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");

    public override string ToString() => string.Join('\n', Lines);
}
