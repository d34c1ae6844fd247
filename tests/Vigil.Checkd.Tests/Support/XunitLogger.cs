using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Vigil.Checkd.Tests.Support;

/// <summary>Sends the engine's log to the test output (shown when a test fails).</summary>
public sealed class XunitLoggerProvider(ITestOutputHelper output) : ILoggerProvider, ILoggerFactory
{
    private readonly ITestOutputHelper _output = output;
    private volatile bool _disposed;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose() => _disposed = true;

    private sealed class Logger(XunitLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (owner._disposed) return;
            try
            {
                owner._output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished.
            }
        }
    }
}
