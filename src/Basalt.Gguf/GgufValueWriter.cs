using System.Runtime.InteropServices;

namespace Basalt.Gguf;

/// <summary>Checks and encodes metadata values; the .NET type must match the tag exactly, so nothing is silently converted.</summary>
internal static class GgufValueWriter
{
    public static void Validate(GgufValue value, string key) => Validate(value.Type, value.Value, key, depth: 0);

    private static void Validate(GgufValueType type, object value, string key, int depth)
    {
        bool ok = type switch
        {
            GgufValueType.UInt8 => value is byte,
            GgufValueType.Int8 => value is sbyte,
            GgufValueType.UInt16 => value is ushort,
            GgufValueType.Int16 => value is short,
            GgufValueType.UInt32 => value is uint,
            GgufValueType.Int32 => value is int,
            GgufValueType.UInt64 => value is ulong,
            GgufValueType.Int64 => value is long,
            GgufValueType.Float32 => value is float,
            GgufValueType.Float64 => value is double,
            GgufValueType.Bool => value is bool,
            GgufValueType.String => value is string,
            GgufValueType.Array => value is GgufArray,
            _ => throw new ArgumentException($"Metadata '{key}' has unknown value type {(uint)type}."),
        };
        if (!ok) throw new ArgumentException($"Metadata '{key}' is tagged {type} but holds {value?.GetType().Name ?? "null"}.");
        if (value is GgufArray a) ValidateArray(a, key, depth);
    }

    private static void ValidateArray(GgufArray a, string key, int depth)
    {
        if (depth >= GgufParser.MaxArrayDepth) throw new ArgumentException($"Metadata '{key}' nests arrays deeper than {GgufParser.MaxArrayDepth}.");
        var expected = ElementClrType(a.ElementType)
            ?? throw new ArgumentException($"Metadata '{key}' has an array of unknown element type {(uint)a.ElementType}.");
        if (a.Values is null || a.Values.GetType() != expected)
            throw new ArgumentException($"Metadata '{key}' is an array of {a.ElementType} but holds {a.Values?.GetType().Name ?? "null"}, not {expected.Name}.");
        if (a.Values is string?[] strings && Array.IndexOf(strings, null) is var i and >= 0)
            throw new ArgumentException($"Metadata '{key}' has a null string at index {i}.");
        if (a.Values is GgufArray?[] nested)
            foreach (var inner in nested)
            {
                if (inner is null) throw new ArgumentException($"Metadata '{key}' has a null nested array.");
                ValidateArray(inner, key, depth + 1);
            }
    }

    private static Type? ElementClrType(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 => typeof(byte[]),
        GgufValueType.Int8 => typeof(sbyte[]),
        GgufValueType.UInt16 => typeof(ushort[]),
        GgufValueType.Int16 => typeof(short[]),
        GgufValueType.UInt32 => typeof(uint[]),
        GgufValueType.Int32 => typeof(int[]),
        GgufValueType.UInt64 => typeof(ulong[]),
        GgufValueType.Int64 => typeof(long[]),
        GgufValueType.Float32 => typeof(float[]),
        GgufValueType.Float64 => typeof(double[]),
        GgufValueType.Bool => typeof(bool[]),
        GgufValueType.String => typeof(string[]),
        GgufValueType.Array => typeof(GgufArray[]),
        _ => null,
    };

    public static void Write(GgufStreamWriter w, GgufValueType type, object value)
    {
        switch (value)
        {
            case byte v: w.WriteU8(v); break;
            case sbyte v: w.WriteU8((byte)v); break;
            case ushort v: w.WriteU16(v); break;
            case short v: w.WriteU16((ushort)v); break;
            case uint v: w.WriteU32(v); break;
            case int v: w.WriteU32((uint)v); break;
            case ulong v: w.WriteU64(v); break;
            case long v: w.WriteU64((ulong)v); break;
            // Bit patterns, not values, so NaN payloads and negative zero survive.
            case float v: w.WriteU32(BitConverter.SingleToUInt32Bits(v)); break;
            case double v: w.WriteU64(BitConverter.DoubleToUInt64Bits(v)); break;
            case bool v: w.WriteU8(v ? (byte)1 : (byte)0); break;
            case string v: w.WriteString(v); break;
            case GgufArray a: WriteArray(w, a); break;
            default: throw new ArgumentException($"Cannot write a {type} value held as {value.GetType().Name}.");
        }
    }

    private static void WriteArray(GgufStreamWriter w, GgufArray a)
    {
        w.WriteU32((uint)a.ElementType);
        w.WriteU64((ulong)a.Values.Length);
        switch (a.Values)
        {
            case byte[] v: w.WriteBytes(v); break;
            case sbyte[] v: w.WriteBytes(MemoryMarshal.AsBytes(v.AsSpan())); break;
            case ushort[] v: WriteScalars(w, v); break;
            case short[] v: WriteScalars(w, v); break;
            case uint[] v: WriteScalars(w, v); break;
            case int[] v: WriteScalars(w, v); break;
            case ulong[] v: WriteScalars(w, v); break;
            case long[] v: WriteScalars(w, v); break;
            case float[] v: WriteScalars(w, v); break;
            case double[] v: WriteScalars(w, v); break;
            case bool[] v: foreach (bool b in v) w.WriteU8(b ? (byte)1 : (byte)0); break;
            case string[] v: foreach (string s in v) w.WriteString(s); break;
            case GgufArray[] v: foreach (var inner in v) WriteArray(w, inner); break;
            default: throw new ArgumentException($"Cannot write an array held as {a.Values.GetType().Name}.");
        }
    }

    private static void WriteScalars<T>(GgufStreamWriter w, T[] values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GGUF writing needs a little-endian CPU.");
        w.WriteBytes(MemoryMarshal.AsBytes(values.AsSpan()));
    }
}
