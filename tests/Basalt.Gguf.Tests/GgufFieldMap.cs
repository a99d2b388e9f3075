using System.Buffers.Binary;

namespace Basalt.Gguf.Tests;

/// <summary>
/// Walks a valid GGUF image and records where its u64 length, count, extent and offset fields are,
/// so the fuzzer can lie in exactly the places a reader must not trust.
/// </summary>
internal static class GgufFieldMap
{
    /// <summary>Offsets of every u64 field, and the offset where the header and tensor infos end.</summary>
    public static (List<int> U64Fields, int MetadataEnd) Map(byte[] b)
    {
        var fields = new List<int> { 8, 16 };
        int p = 24;
        ulong tensors = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8));
        ulong kvs = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16));
        for (ulong i = 0; i < kvs; i++)
        {
            p = SkipString(b, p, fields);
            uint type = ReadU32(b, ref p);
            p = SkipValue(b, p, type, fields);
        }
        for (ulong i = 0; i < tensors; i++)
        {
            p = SkipString(b, p, fields);
            uint dims = ReadU32(b, ref p);
            for (uint d = 0; d < dims; d++)
            {
                fields.Add(p);
                p += 8;
            }
            p += 4;
            fields.Add(p);
            p += 8;
        }
        return (fields, p);
    }

    private static uint ReadU32(byte[] b, ref int p)
    {
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(p));
        p += 4;
        return v;
    }

    private static int SkipString(byte[] b, int p, List<int> fields)
    {
        fields.Add(p);
        return p + 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(p));
    }

    private static int SkipValue(byte[] b, int p, uint type, List<int> fields)
    {
        switch ((GgufValueType)type)
        {
            case GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool: return p + 1;
            case GgufValueType.UInt16 or GgufValueType.Int16: return p + 2;
            case GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32: return p + 4;
            case GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64: return p + 8;
            case GgufValueType.String: return SkipString(b, p, fields);
            case GgufValueType.Array:
                uint element = ReadU32(b, ref p);
                fields.Add(p);
                long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(p));
                p += 8;
                for (long i = 0; i < n; i++) p = SkipValue(b, p, element, fields);
                return p;
            default: throw new InvalidOperationException($"Unknown type {type} at {p}");
        }
    }
}
