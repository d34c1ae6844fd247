using System.Collections;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Vigil.Config.Model;

/// <summary>
/// An immutable list that compares by value, so records holding lists keep structural equality
/// (ImmutableArray and List compare by reference). The default value is an empty list.
/// </summary>
[CollectionBuilder(typeof(EquatableArray), nameof(EquatableArray.Create))]
public readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
{
    private readonly T[]? _items;

    public EquatableArray(IEnumerable<T> items)
    {
        var array = items.ToArray();
        _items = array.Length == 0 ? null : array;
    }

    private EquatableArray(T[] items, bool _) => _items = items.Length == 0 ? null : items;

    public static EquatableArray<T> Empty => default;

    /// <summary>Wraps an array the caller will no longer modify (no copy).</summary>
    internal static EquatableArray<T> TakeOwnership(T[] items) => new(items, true);

    public int Count => _items?.Length ?? 0;

    public bool IsEmpty => Count == 0;

    public T this[int index] => (_items ?? [])[index];

    public ReadOnlySpan<T> AsSpan() => _items;

    /// <summary>A new list with <paramref name="item"/> appended (this one is unchanged).</summary>
    public EquatableArray<T> Append(T item)
    {
        var copy = new T[Count + 1];
        _items?.CopyTo(copy, 0);
        copy[^1] = item;
        return new EquatableArray<T>(copy, true);
    }

    public bool Equals(EquatableArray<T> other)
    {
        var a = _items ?? [];
        var b = other._items ?? [];
        if (a.Length != b.Length) return false;
        var comparer = EqualityComparer<T>.Default;
        for (var i = 0; i < a.Length; i++)
        {
            if (!comparer.Equals(a[i], b[i])) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items ?? []) hash.Add(item);
        return hash.ToHashCode();
    }

    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "[" + string.Join(", ", _items ?? []) + "]";

    public static implicit operator EquatableArray<T>(T[] items) => new(items);
}

/// <summary>Creation helpers (collection expressions target this builder).</summary>
public static class EquatableArray
{
    /// <summary>The builder of collection expressions ("[a, b]", "[.. items]").</summary>
    public static EquatableArray<T> Create<T>(ReadOnlySpan<T> items) => EquatableArray<T>.TakeOwnership(items.ToArray());

    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items) => new(items);
}

/// <summary>
/// Writes an <see cref="EquatableArray{T}"/> as a JSON array (and reads one back). One closed
/// converter per element type, listed in the serializer context: a converter factory would have
/// to make the generic type at run time, which NativeAOT cannot.
/// </summary>
public sealed class EquatableArrayJsonConverter<T> : JsonConverter<EquatableArray<T>>
{
    public override EquatableArray<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = JsonSerializer.Deserialize(ref reader, (JsonTypeInfo<T[]>)options.GetTypeInfo(typeof(T[]))) ?? [];
        return new EquatableArray<T>(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableArray<T> value, JsonSerializerOptions options)
    {
        var item = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        writer.WriteStartArray();
        foreach (var element in value)
        {
            JsonSerializer.Serialize(writer, element, item);
        }
        writer.WriteEndArray();
    }
}
