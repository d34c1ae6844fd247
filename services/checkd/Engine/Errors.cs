namespace Vigil.Checkd.Engine;

/// <summary>The few typed errors the engine throws; the gRPC layer maps each to one status
/// code (NOT_FOUND, ALREADY_EXISTS, INVALID_ARGUMENT, FAILED_PRECONDITION, UNAVAILABLE).</summary>
public abstract class CheckdException(string message) : Exception(message);

/// <summary>No such virtual or real server.</summary>
public sealed class CheckdNotFoundException(string message) : CheckdException(message);

/// <summary>A runtime addition of something that is there already (a real server).</summary>
public sealed class CheckdAlreadyExistsException(string message) : CheckdException(message);

/// <summary>Bad input; <see cref="Problems"/> names each field and what is wrong with it.</summary>
public sealed class CheckdInvalidArgumentException(IReadOnlyList<string> problems)
    : CheckdException(problems.Count == 1 ? problems[0] : $"{problems.Count} problems: " + string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>The request is valid but not in this state (not started yet).</summary>
public sealed class CheckdFailedPreconditionException(string message) : CheckdException(message);

/// <summary>The engine is stopping or stopped.</summary>
public sealed class CheckdUnavailableException(string message) : CheckdException(message);
