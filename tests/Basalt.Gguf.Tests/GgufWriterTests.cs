using Basalt.Tensors;

namespace Basalt.Gguf.Tests;

public sealed class GgufWriterTests
{
    private static byte[] Write(GgufWriter writer)
    {
        using var ms = new MemoryStream();
        long n = writer.WriteTo(ms);
        Assert.Equal(ms.Length, n);
        return ms.ToArray();
    }

    private static GgufFile RoundTrip(GgufWriter writer, out byte[] bytes)
    {
        bytes = Write(writer);
        return GgufFile.Parse(bytes, "written.gguf");
    }

    public static TheoryData<GgufValueType, object> Scalars() => new()
    {
        { GgufValueType.UInt8, (byte)0xFE },
        { GgufValueType.Int8, (sbyte)-7 },
        { GgufValueType.UInt16, (ushort)0xBEEF },
        { GgufValueType.Int16, (short)-12345 },
        { GgufValueType.UInt32, 0xDEADBEEFu },
        { GgufValueType.Int32, int.MinValue },
        { GgufValueType.UInt64, ulong.MaxValue },
        { GgufValueType.Int64, long.MinValue + 1 },
        { GgufValueType.Float32, -0.0f },
        { GgufValueType.Float32, float.NaN },
        { GgufValueType.Float64, Math.PI },
        { GgufValueType.Bool, true },
        { GgufValueType.Bool, false },
        { GgufValueType.String, "" },
        { GgufValueType.String, "héllo ▁wörld 🦙" },
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    public void ScalarRoundTrips(GgufValueType type, object value)
    {
        using var file = RoundTrip(new GgufWriter().Add("k", type, value), out _);
        var read = file.Metadata.Get("k");
        Assert.Equal(type, read.Type);
        Assert.Equal(value.GetType(), read.Value.GetType());
        if (value is float f) Assert.Equal(BitConverter.SingleToUInt32Bits(f), BitConverter.SingleToUInt32Bits((float)read.Value));
        else Assert.Equal(value, read.Value);
    }

    public static TheoryData<GgufValueType, Array> Arrays() => new()
    {
        { GgufValueType.UInt8, new byte[] { 0, 1, 255 } },
        { GgufValueType.Int8, new sbyte[] { -128, 0, 127 } },
        { GgufValueType.UInt16, new ushort[] { 1, 65535 } },
        { GgufValueType.Int16, new short[] { -1, 2 } },
        { GgufValueType.UInt32, new uint[] { 3, 4, 5 } },
        { GgufValueType.Int32, new int[] { -3, 4 } },
        { GgufValueType.UInt64, new ulong[] { ulong.MaxValue } },
        { GgufValueType.Int64, new long[] { long.MinValue, 0 } },
        { GgufValueType.Float32, new float[] { 1.5f, -2.25f } },
        { GgufValueType.Float64, new double[] { 1e300, -1e-300 } },
        { GgufValueType.Bool, new bool[] { true, false, true } },
        { GgufValueType.String, new string[] { "a", "", "ü" } },
        { GgufValueType.UInt32, Array.Empty<uint>() },
    };

    [Theory]
    [MemberData(nameof(Arrays))]
    public void ArrayRoundTrips(GgufValueType elementType, Array values)
    {
        using var file = RoundTrip(new GgufWriter().Add("arr", GgufValue.Of(new GgufArray(elementType, values))), out _);
        var read = file.Metadata.GetArray("arr");
        Assert.NotNull(read);
        Assert.Equal(elementType, read.ElementType);
        Assert.Equal(values.GetType(), read.Values.GetType());
        Assert.Equal(values.Cast<object>(), read.Values.Cast<object>());
    }

    [Fact]
    public void NestedArraysRoundTrip()
    {
        var inner1 = new GgufArray(GgufValueType.Int32, new[] { 1, 2, 3 });
        var inner2 = new GgufArray(GgufValueType.String, new[] { "x", "yz" });
        var deeper = new GgufArray(GgufValueType.Array, new[] { new GgufArray(GgufValueType.Bool, new[] { true }) });
        var outer = new GgufArray(GgufValueType.Array, new[] { inner1, inner2, deeper, new GgufArray(GgufValueType.UInt8, Array.Empty<byte>()) });
        using var file = RoundTrip(new GgufWriter().Add("nested", GgufValue.Of(outer)), out var bytes);

        var read = file.Metadata.GetArray<GgufArray>("nested");
        Assert.NotNull(read);
        Assert.Equal(4, read.Length);
        Assert.Equal(new[] { 1, 2, 3 }, read[0].As<int>());
        Assert.Equal(new[] { "x", "yz" }, read[1].As<string>());
        Assert.True(read[2].As<GgufArray>()[0].As<bool>()[0]);
        Assert.Empty(read[3].As<byte>());
        // Writing what was read must give the same image again.
        RoundTripTests.AssertSameBytes(bytes, Write(GgufWriter.FromFile(file)));
    }

    [Fact]
    public void MetadataKeepsOrderAndTypes()
    {
        var writer = new GgufWriter()
            .Add("z.last", GgufValue.Of(1u))
            .Add("a.first", GgufValue.Of(1))
            .Add("m.middle", GgufValue.Of(1L));
        using var file = RoundTrip(writer, out _);
        Assert.Equal(["z.last", "a.first", "m.middle"], file.Metadata.Entries.Select(e => e.Key));
        Assert.Equal([GgufValueType.UInt32, GgufValueType.Int32, GgufValueType.Int64], file.Metadata.Entries.Select(e => e.Value.Type));
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(8u)]
    [InlineData(32u)]
    [InlineData(64u)]
    [InlineData(4096u)]
    public void TensorsArePackedAndPaddedToTheAlignment(uint alignment)
    {
        var a = Enumerable.Range(0, 3 * 4).Select(i => (byte)(i + 1)).ToArray();       // 3 F32 = 12 bytes
        var b = Enumerable.Range(0, 5 * 2).Select(i => (byte)(0x80 + i)).ToArray();    // 5 F16 = 10 bytes
        var writer = new GgufWriter()
            .Add("general.architecture", GgufValue.Of("test"))
            .Add("general.alignment", GgufValue.Of(alignment))
            .AddTensor("a", [3], GgmlType.F32, a)
            .AddTensor("b", [5, 1], GgmlType.F16, b);
        using var file = RoundTrip(writer, out var bytes);

        Assert.Equal((int)alignment, file.Alignment);
        Assert.Equal(0, file.DataOffset % alignment);
        var ta = file.FindTensor("a")!;
        var tb = file.FindTensor("b")!;
        Assert.Equal(0, ta.Offset);
        Assert.Equal(GgufParser.AlignUp(12, (int)alignment), tb.Offset);
        Assert.Equal(a, file.GetTensorData(ta).ToArray());
        Assert.Equal(b, file.GetTensorData(tb).ToArray());
        Assert.Equal(new long[] { 5, 1 }, tb.Dimensions);
        Assert.Equal(GgmlType.F16, tb.Type);

        // The file ends on an aligned boundary and every padding byte is zero.
        Assert.Equal(file.DataOffset + GgufParser.AlignUp(tb.Offset + 10, (int)alignment), bytes.Length);
        long metaEnd = FindMetadataEnd(bytes, file);
        Assert.All(bytes[(int)metaEnd..(int)file.DataOffset], x => Assert.Equal(0, x));
        Assert.All(bytes[(int)(file.DataOffset + 12)..(int)(file.DataOffset + tb.Offset)], x => Assert.Equal(0, x));
        Assert.All(bytes[(int)(file.DataOffset + tb.Offset + 10)..], x => Assert.Equal(0, x));
    }

    /// <summary>End of the last tensor info: the data section start minus its padding.</summary>
    private static long FindMetadataEnd(byte[] bytes, GgufFile file)
    {
        // The last tensor info ends with its u64 offset; search backwards for it.
        var last = file.Tensors[^1];
        for (long end = file.DataOffset; end >= 8; end--)
            if (BitConverter.ToInt64(bytes, (int)end - 8) == last.Offset && BitConverter.ToUInt32(bytes, (int)end - 12) == (uint)last.Type)
                return end;
        throw new InvalidOperationException("tensor info not found");
    }

    [Fact]
    public void WithoutTensorsTheFileEndsAfterTheMetadata()
    {
        var bytes = Write(new GgufWriter().Add("general.architecture", GgufValue.Of("abc")));
        // 24-byte header, 8 + 20 key, 4 type, 8 + 3 value: no padding after it.
        Assert.Equal(24 + 8 + 20 + 4 + 8 + 3, bytes.Length);
    }

    [Fact]
    public void VersionTwoIsWritten()
    {
        using var file = RoundTrip(new GgufWriter(version: 2).Add("k", GgufValue.Of("v")), out _);
        Assert.Equal(2u, file.Version);
    }

    [Fact]
    public void WritesToAFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"basalt-writer-{Guid.NewGuid():N}.gguf");
        try
        {
            new GgufWriter().Add("k", GgufValue.Of(7u)).AddTensor("t", [32], GgmlType.Q8_0, new byte[34]).WriteTo(path);
            using var file = GgufFile.Open(path);
            Assert.Equal(7L, file.Metadata.GetInt64("k"));
            Assert.Equal(34, file.GetTensorData(file.Tensors[0]).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RejectsValuesWhoseClrTypeDoesNotMatchTheTag()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValueType.UInt32, 5));
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValueType.String, 5));
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValue.Of(new GgufArray(GgufValueType.Int32, new uint[1]))));
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValue.Of(new GgufArray(GgufValueType.String, new string[1]))));
        Assert.Throws<ArgumentException>(() => w.Add("k", (GgufValueType)99, 5));
        Assert.Empty(w.Metadata);
    }

    [Fact]
    public void RejectsDuplicatesAndBadAlignment()
    {
        var w = new GgufWriter().Add("k", GgufValue.Of(1u));
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValue.Of(2u)));
        Assert.Throws<ArgumentException>(() => w.Add("general.alignment", GgufValue.Of(24u)));
        Assert.Throws<ArgumentException>(() => w.Add("general.alignment", GgufValue.Of(32)));
        w.AddTensor("t", [4], GgmlType.F32, new byte[16]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", [4], GgmlType.F32, new byte[16]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(1));
    }

    [Fact]
    public void RejectsBadTensorShapesAndSizes()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor("wrong-size", [4], GgmlType.F32, new byte[15]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("no-dims", [], GgmlType.F32, new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five-dims", [1, 1, 1, 1, 1], GgmlType.F32, new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("zero-dim", [0], GgmlType.F32, Array.Empty<byte>()));
        Assert.Throws<ArgumentException>(() => w.AddTensor("partial-block", [16], GgmlType.Q4_0, new byte[9]));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.AddTensor("unknown-type", [1], (GgmlType)4, new byte[4]));
        Assert.Equal(0, w.TensorCount);
        // A rejected tensor must not reserve its name.
        w.AddTensor("wrong-size", [4], GgmlType.F32, new byte[16]);
        Assert.Equal(1, w.TensorCount);
    }
}
