using Basalt.Tensors;

namespace Basalt.Gguf;

/// <summary>Parses the GGUF header, metadata and tensor infos, validating every count, size and offset.</summary>
internal static class GgufParser
{
    /// <summary>ggml keeps at most four dimensions per tensor.</summary>
    public const int MaxDimensions = 4;

    /// <summary>Deepest nesting of arrays accepted; real files nest at most once.</summary>
    public const int MaxArrayDepth = 8;

    // Smallest encodings, used to reject counts that could not possibly fit in the file.
    private const int MinKeyValueBytes = 8 + 4 + 1;          // empty key, type, one-byte value
    private const int MinTensorInfoBytes = 8 + 4 + 8 + 4 + 8; // empty name, n_dims, one dim, type, offset

    public sealed record Result(uint Version, GgufMetadata Metadata, IReadOnlyList<GgufTensorInfo> Tensors, int Alignment, long DataOffset);

    public static Result Parse(GgufCursor c)
    {
        uint magic = c.ReadU32("the magic \"GGUF\"");
        if (magic != GgufFile.Magic)
            throw c.Error(0, "the magic \"GGUF\" (47 47 55 46)", $"{magic & 0xFF:X2} {(magic >> 8) & 0xFF:X2} {(magic >> 16) & 0xFF:X2} {magic >> 24:X2}");

        uint version = c.ReadU32("the version");
        if (version is not (2 or 3))
        {
            string found = version == 1 ? "version 1 (32-bit counts, no longer supported)"
                : (version & 0xFFFF) == 0 && version != 0 ? $"version {version} (a big-endian file?)"
                : $"version {version}";
            throw c.Error(4, "GGUF version 2 or 3", found);
        }

        long tensorCount = c.ReadCount("tensor count", MinTensorInfoBytes);
        long kvCount = c.ReadCount("metadata count", MinKeyValueBytes);

        var entries = new List<KeyValuePair<string, GgufValue>>((int)kvCount);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        long alignmentTypeAt = -1;
        for (long i = 0; i < kvCount; i++)
        {
            long at = c.Position;
            string key = c.ReadString($"metadata key #{i}");
            if (!keys.Add(key)) throw c.Error(at, "unique metadata keys", $"a second '{key}'");
            long typeAt = c.Position;
            var type = ReadType(ref c, $"the type of '{key}'");
            if (key == "general.alignment") alignmentTypeAt = typeAt;
            var value = ReadValue(ref c, type, key, typeAt, depth: 0);
            entries.Add(new(key, new GgufValue(type, value)));
        }
        var metadata = new GgufMetadata(entries);

        int alignment = ReadAlignment(ref c, metadata, alignmentTypeAt);
        var tensors = ReadTensorInfos(ref c, tensorCount, alignment, out var offsetFieldsAt);

        long dataOffset = AlignUp(c.Position, alignment);
        if (tensors.Count > 0 && dataOffset > c.Length)
            throw c.Error(c.Position, $"tensor data from byte {dataOffset}", $"end of file at byte {c.Length}");
        CheckTensorExtents(ref c, tensors, offsetFieldsAt, dataOffset);
        return new Result(version, metadata, tensors, alignment, dataOffset);
    }

    private static GgufValueType ReadType(ref GgufCursor c, string what)
    {
        long at = c.Position;
        uint t = c.ReadU32(what);
        if (t > (uint)GgufValueType.Float64) throw c.Error(at, $"a value type 0–12 for {what}", t.ToString());
        return (GgufValueType)t;
    }

    private static object ReadValue(ref GgufCursor c, GgufValueType type, string key, long typeAt, int depth) => type switch
    {
        GgufValueType.UInt8 => c.ReadU8(key),
        GgufValueType.Int8 => (sbyte)c.ReadU8(key),
        GgufValueType.UInt16 => c.ReadU16(key),
        GgufValueType.Int16 => (short)c.ReadU16(key),
        GgufValueType.UInt32 => c.ReadU32(key),
        GgufValueType.Int32 => (int)c.ReadU32(key),
        GgufValueType.UInt64 => c.ReadU64(key),
        GgufValueType.Int64 => (long)c.ReadU64(key),
        GgufValueType.Float32 => BitConverter.UInt32BitsToSingle(c.ReadU32(key)),
        GgufValueType.Float64 => BitConverter.UInt64BitsToDouble(c.ReadU64(key)),
        GgufValueType.Bool => ReadBool(ref c, key),
        GgufValueType.String => c.ReadString($"the value of '{key}'"),
        GgufValueType.Array => ReadArray(ref c, key, depth),
        _ => throw c.Error(typeAt, "a known value type", ((uint)type).ToString()),
    };

    private static bool ReadBool(ref GgufCursor c, string key)
    {
        long at = c.Position;
        byte b = c.ReadU8(key);
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw c.Error(at, $"a bool (0 or 1) for '{key}'", b.ToString()),
        };
    }

    private static GgufArray ReadArray(ref GgufCursor c, string key, int depth)
    {
        long typeAt = c.Position;
        if (depth >= MaxArrayDepth) throw c.Error(typeAt, $"arrays nested at most {MaxArrayDepth} deep in '{key}'", "deeper nesting");
        var elementType = ReadType(ref c, $"the element type of '{key}'");
        long count = c.ReadCount($"element count of '{key}'", MinSize(elementType));
        int n = (int)count;
        Array values = elementType switch
        {
            GgufValueType.UInt8 => c.Slice(Take(ref c, n, 1), n).ToArray(),
            GgufValueType.Int8 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(c.Slice(Take(ref c, n, 1), n)).ToArray(),
            GgufValueType.UInt16 => ReadScalars<ushort>(ref c, n),
            GgufValueType.Int16 => ReadScalars<short>(ref c, n),
            GgufValueType.UInt32 => ReadScalars<uint>(ref c, n),
            GgufValueType.Int32 => ReadScalars<int>(ref c, n),
            GgufValueType.UInt64 => ReadScalars<ulong>(ref c, n),
            GgufValueType.Int64 => ReadScalars<long>(ref c, n),
            GgufValueType.Float32 => ReadScalars<float>(ref c, n),
            GgufValueType.Float64 => ReadScalars<double>(ref c, n),
            GgufValueType.Bool => ReadBools(ref c, key, n),
            GgufValueType.String => ReadStrings(ref c, key, n),
            GgufValueType.Array => ReadNested(ref c, key, n, depth),
            _ => throw c.Error(typeAt, "a known element type", ((uint)elementType).ToString()),
        };
        return new GgufArray(elementType, values);
    }

    private static long Take(ref GgufCursor c, int count, int size)
    {
        long at = c.Position;
        c.Position += (long)count * size; // ReadCount already proved these bytes exist
        return at;
    }

    private static T[] ReadScalars<T>(ref GgufCursor c, int n) where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if ((long)n * size > int.MaxValue) throw c.Error(c.Position, "an array under 2 GiB", $"{n} elements of {size} bytes");
        var bytes = c.Slice(Take(ref c, n, size), n * size);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GGUF reading needs a little-endian CPU.");
        return values;
    }

    private static bool[] ReadBools(ref GgufCursor c, string key, int n)
    {
        var result = new bool[n];
        for (int i = 0; i < n; i++) result[i] = ReadBool(ref c, key);
        return result;
    }

    private static string[] ReadStrings(ref GgufCursor c, string key, int n)
    {
        var result = new string[n];
        for (int i = 0; i < n; i++) result[i] = c.ReadString(key, element: i);
        return result;
    }

    private static GgufArray[] ReadNested(ref GgufCursor c, string key, int n, int depth)
    {
        var result = new GgufArray[n];
        for (int i = 0; i < n; i++) result[i] = ReadArray(ref c, key, depth + 1);
        return result;
    }

    private static int MinSize(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        _ => 12, // nested array: element type + count
    };

    private static int ReadAlignment(ref GgufCursor c, GgufMetadata metadata, long typeAt)
    {
        var v = metadata.Find("general.alignment");
        if (v is null) return GgufFile.DefaultAlignment;
        // Point at the type tag when the type is wrong, at the number when the number is.
        if (v.Value is not uint a)
            throw c.Error(typeAt, "general.alignment of type UInt32", $"{v.Type} {v}");
        if (a == 0 || (a & (a - 1)) != 0 || a > (1u << 30))
            throw c.Error(typeAt + 4, "general.alignment as a power of two up to 2^30", a.ToString());
        return (int)a;
    }

    private static List<GgufTensorInfo> ReadTensorInfos(ref GgufCursor c, long count, int alignment, out List<long> offsetFieldsAt)
    {
        var tensors = new List<GgufTensorInfo>((int)count);
        offsetFieldsAt = new List<long>((int)count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            long at = c.Position;
            string name = c.ReadString($"the name of tensor #{i}");
            if (!names.Add(name)) throw c.Error(at, "unique tensor names", $"a second '{name}'");

            long dimsAt = c.Position;
            uint nDims = c.ReadU32($"the dimension count of '{name}'");
            if (nDims is 0 or > MaxDimensions) throw c.Error(dimsAt, $"1–{MaxDimensions} dimensions for '{name}'", nDims.ToString());
            var dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                long dimAt = c.Position;
                ulong extent = c.ReadU64($"dimension {d} of '{name}'");
                if (extent == 0 || extent > long.MaxValue || (ulong)elements > long.MaxValue / extent)
                    throw c.Error(dimAt, $"a positive extent for dimension {d} of '{name}' with an element count under 2^63", extent.ToString());
                dims[d] = (long)extent;
                elements *= (long)extent;
            }

            long typeAt = c.Position;
            uint typeId = c.ReadU32($"the type of '{name}'");
            if (!GgmlTypeInfo.TryGet(typeId, out var info))
                throw c.Error(typeAt, $"a known ggml type id for '{name}'", typeId.ToString());
            if (dims[0] % info.BlockSize != 0)
                throw c.Error(dimsAt + 4, $"a row length of '{name}' that is a multiple of the {info.Type} block size {info.BlockSize}", dims[0].ToString());

            long offsetAt = c.Position;
            ulong offset = c.ReadU64($"the data offset of '{name}'");
            if (offset > long.MaxValue || offset % (ulong)alignment != 0)
                throw c.Error(offsetAt, $"a data offset for '{name}' that is a multiple of {alignment}", offset.ToString());
            tensors.Add(new GgufTensorInfo(name, dims, info.Type, (long)offset));
            offsetFieldsAt.Add(offsetAt);
        }
        return tensors;
    }

    /// <summary>
    /// Checks every tensor's data lies inside the file and no two overlap. Errors point at the
    /// tensor info's offset field, since that is the number that is wrong.
    /// </summary>
    private static void CheckTensorExtents(ref GgufCursor c, List<GgufTensorInfo> tensors, List<long> offsetFieldsAt, long dataOffset)
    {
        long available = c.Length - dataOffset;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            var info = GgmlTypeInfo.Of(t.Type);
            long blocks = t.ElementCount / info.BlockSize;
            if (blocks > available / info.BytesPerBlock || t.Offset > available - blocks * info.BytesPerBlock)
                throw c.Error(offsetFieldsAt[i],
                    $"{blocks * (decimal)info.BytesPerBlock} byte(s) of data for '{t.Name}' inside the file (data section at byte {dataOffset})",
                    $"offset {t.Offset}, which ends past the end of file at byte {c.Length}");
        }
        var order = Enumerable.Range(0, tensors.Count).OrderBy(i => tensors[i].Offset).ToList();
        for (int k = 1; k < order.Count; k++)
        {
            var prev = tensors[order[k - 1]];
            var next = tensors[order[k]];
            long prevEnd = prev.Offset + prev.ByteSize;
            if (prevEnd > next.Offset)
                throw c.Error(offsetFieldsAt[order[k]], $"the data of '{next.Name}' to start at or after offset {prevEnd}, where '{prev.Name}' ends",
                    $"offset {next.Offset} (overlapping tensor data)");
        }
    }

    public static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
