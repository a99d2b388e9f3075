using System.Globalization;

namespace Basalt.Gguf;

/// <summary>One metadata value with the type tag it had in the file (so that writing it back is exact).</summary>
/// <param name="Type">The stored type.</param>
/// <param name="Value">A boxed scalar of the matching .NET type, a string, or a <see cref="GgufArray"/>.</param>
public sealed record GgufValue(GgufValueType Type, object Value)
{
    public static GgufValue Of(string s) => new(GgufValueType.String, s);
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Of(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Of(ulong v) => new(GgufValueType.UInt64, v);
    public static GgufValue Of(long v) => new(GgufValueType.Int64, v);
    public static GgufValue Of(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue Of(GgufArray a) => new(GgufValueType.Array, a);

    /// <summary>Whether the value is one of the integer types.</summary>
    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16
        or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>The value as a 64-bit integer, whatever integer type stored it.</summary>
    public long AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v when v <= long.MaxValue => (long)v,
        long v => v,
        _ => throw new InvalidCastException($"GGUF value of type {Type} is not an integer that fits in 64 bits."),
    };

    /// <summary>The value as a double, from any numeric type.</summary>
    public double AsDouble() => Value switch
    {
        float f => f,
        double d => d,
        _ when IsInteger => AsInt64(),
        _ => throw new InvalidCastException($"GGUF value of type {Type} is not a number."),
    };

    /// <summary>A short human-readable rendering (arrays show their type and length, with a few elements).</summary>
    public override string ToString() => Value switch
    {
        string s => s,
        GgufArray a => $"[{a.ElementType} × {a.Count}]",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };
}
