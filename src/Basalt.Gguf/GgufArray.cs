namespace Basalt.Gguf;

/// <summary>
/// A GGUF array value. <see cref="Values"/> is a typed .NET array: <c>byte[]</c> for UInt8,
/// <c>string[]</c> for String, <c>float[]</c> for Float32, <c>bool[]</c> for Bool,
/// <c>GgufArray[]</c> for nested arrays, and so on.
/// </summary>
/// <param name="ElementType">The element type tag stored in the file.</param>
/// <param name="Values">The elements.</param>
public sealed record GgufArray(GgufValueType ElementType, Array Values)
{
    /// <summary>Number of elements.</summary>
    public int Count => Values.Length;

    /// <summary>The elements as <typeparamref name="T"/>[], or an exception naming both types when they differ.</summary>
    public T[] As<T>() => Values as T[]
        ?? throw new InvalidCastException($"GGUF array holds {ElementType} elements, not {typeof(T).Name}.");
}
