using Basalt.Tensors;

namespace Basalt.Gguf.Tests;

/// <summary>Each kind of broken file gives a <see cref="GgufFormatException"/> that names the file and the offending byte.</summary>
public sealed class MalformedFileTests
{
    private const string Name = "broken.gguf";

    private static GgufFormatException AssertRejected(byte[] bytes, long offset, string? mentions = null)
    {
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Parse(bytes, Name).Dispose());
        Assert.Equal(Name, e.File);
        Assert.Equal(offset, e.Offset);
        Assert.StartsWith($"{Name}: invalid GGUF at byte {offset}: expected ", e.Message);
        if (mentions != null) Assert.Contains(mentions, e.Message);
        return e;
    }

    /// <summary>A valid file with one F32 tensor of four elements, to be broken by the tests.</summary>
    private static GgufBytes OneTensor(ulong[] dims, uint type, ulong offset, out int infoAt, out int typeAt, out int offsetAt, int dataBytes = 16)
    {
        var b = new GgufBytes().Header(1, 1).KvString("general.architecture", "llama").Mark(out infoAt);
        b.Str("w").U32((uint)dims.Length);
        foreach (ulong d in dims) b.U64(d);
        b.Mark(out typeAt).U32(type).Mark(out offsetAt).U64(offset).PadTo(32).Zeros(dataBytes);
        return b;
    }

    [Fact]
    public void ValidBaselineParses()
    {
        using var file = GgufFile.Parse(OneTensor([4], 0, 0, out _, out _, out _).ToArray(), Name);
        Assert.Equal(16, file.GetTensorData(file.Tensors[0]).Length);
    }

    [Fact]
    public void WrongMagic() =>
        AssertRejected(new GgufBytes().Raw("GGUX"u8.ToArray()).U32(3).U64(0).U64(0).ToArray(), 0, "47 47 55 58");

    [Theory]
    [InlineData(1u, "version 1")]
    [InlineData(4u, "version 4")]
    [InlineData(0x03000000u, "big-endian")]
    [InlineData(0u, "version 0")]
    public void UnsupportedVersions(uint version, string mentions) =>
        AssertRejected(new GgufBytes().Header(0, 0, version).ToArray(), 4, mentions);

    [Fact]
    public void AbsurdTensorCount() =>
        AssertRejected(new GgufBytes().Header(ulong.MaxValue, 0).ToArray(), 8, ulong.MaxValue.ToString());

    [Fact]
    public void AbsurdKeyValueCount() =>
        AssertRejected(new GgufBytes().Header(0, 1L << 40).KvU32("a", 1).ToArray(), 16, (1L << 40).ToString());

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(23)]
    public void TruncatedHeader(int length)
    {
        var bytes = new GgufBytes().Header(0, 0).ToArray()[..length];
        AssertRejected(bytes, length < 4 ? 0 : length < 8 ? 4 : length < 16 ? 8 : 16, "end of file");
    }

    [Fact]
    public void KeyLengthPastEnd() =>
        AssertRejected(new GgufBytes().Header(0, 1).U64(1000).Raw("abc"u8.ToArray()).U32(4).U32(0).ToArray(), 24, "1000");

    [Fact]
    public void ValueLengthPastEnd()
    {
        var b = new GgufBytes().Header(0, 1).Str("k").U32((uint)GgufValueType.String).Mark(out int at).U64(ulong.MaxValue - 3).Raw(1, 2, 3);
        AssertRejected(b.ToArray(), at, (ulong.MaxValue - 3).ToString());
    }

    [Fact]
    public void InvalidUtf8InKey()
    {
        var b = new GgufBytes().Header(0, 1).U64(3).Raw((byte)'a', 0xC3, 0x28).U32((uint)GgufValueType.UInt8).U8(0);
        AssertRejected(b.ToArray(), 24 + 8 + 1, "UTF-8");
    }

    [Fact]
    public void InvalidUtf8InValue()
    {
        var b = new GgufBytes().Header(0, 1).Str("key").U32((uint)GgufValueType.String).Mark(out int at).StrBytes([(byte)'o', (byte)'k', 0xFF]);
        AssertRejected(b.ToArray(), at + 8 + 2, "'key'");
    }

    [Fact]
    public void InvalidUtf8InStringArrayElement()
    {
        var b = new GgufBytes().Header(0, 1).Str("tokens").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.String).U64(2)
            .Str("fine").Mark(out int at).StrBytes([0xED, 0xA0, 0x80]); // an encoded UTF-16 surrogate
        AssertRejected(b.ToArray(), at + 8, "element 1 of 'tokens'");
    }

    [Theory]
    [InlineData(13u)]
    [InlineData(0xFFFFFFFFu)]
    public void UnknownValueType(uint type)
    {
        var b = new GgufBytes().Header(0, 1).Str("k").Mark(out int at).U32(type).U64(0);
        AssertRejected(b.ToArray(), at, type.ToString());
    }

    [Fact]
    public void UnknownArrayElementType()
    {
        var b = new GgufBytes().Header(0, 1).Str("k").U32((uint)GgufValueType.Array).Mark(out int at).U32(77).U64(0);
        AssertRejected(b.ToArray(), at, "77");
    }

    [Fact]
    public void BoolOtherThanZeroOrOne()
    {
        var b = new GgufBytes().Header(0, 1).Str("flag").U32((uint)GgufValueType.Bool).Mark(out int at).U8(2);
        AssertRejected(b.ToArray(), at, "'flag'");
    }

    [Fact]
    public void ArraysNestedTooDeep()
    {
        var b = new GgufBytes().Header(0, 1).Str("deep").U32((uint)GgufValueType.Array);
        int at = 0;
        for (int depth = 0; depth <= GgufParser.MaxArrayDepth; depth++)
        {
            if (depth == GgufParser.MaxArrayDepth) b.Mark(out at);
            b.U32((uint)GgufValueType.Array).U64(1);
        }
        b.Zeros(64);
        AssertRejected(b.ToArray(), at, "nested");
    }

    [Theory]
    [InlineData(4u)]   // Q4_2, removed from ggml
    [InlineData(40u)]
    [InlineData(uint.MaxValue)]
    public void UnknownGgmlType(uint type)
    {
        var bytes = OneTensor([4], type, 0, out _, out int typeAt, out _).ToArray();
        AssertRejected(bytes, typeAt, $"found {type}");
    }

    [Fact]
    public void ZeroDimensions()
    {
        var b = new GgufBytes().Header(1, 0).Str("w").Mark(out int at).U32(0).U32(0).U64(0).PadTo(32);
        AssertRejected(b.ToArray(), at, "found 0");
    }

    [Fact]
    public void FiveDimensions()
    {
        var b = new GgufBytes().Header(1, 0).Str("w").Mark(out int at).U32(5);
        for (int i = 0; i < 5; i++) b.U64(1);
        b.U32(0).U64(0).PadTo(32).Zeros(32);
        AssertRejected(b.ToArray(), at, "found 5");
    }

    [Fact]
    public void ZeroExtent()
    {
        var bytes = OneTensor([4, 0], 0, 0, out int infoAt, out _, out _).ToArray();
        AssertRejected(bytes, infoAt + 8 + 1 + 4 + 8, "dimension 1");
    }

    [Fact]
    public void ElementCountOverflow()
    {
        var bytes = OneTensor([1L << 40, 1L << 40], 0, 0, out int infoAt, out _, out _).ToArray();
        AssertRejected(bytes, infoAt + 8 + 1 + 4 + 8, "2^63");
    }

    [Fact]
    public void RowNotAWholeNumberOfBlocks()
    {
        var bytes = OneTensor([16], (uint)GgmlType.Q4_0, 0, out int infoAt, out _, out _).ToArray();
        AssertRejected(bytes, infoAt + 8 + 1 + 4, "block size 32");
    }

    [Fact]
    public void TensorOffsetPastEnd()
    {
        var bytes = OneTensor([4], 0, 1024, out _, out _, out int offsetAt).ToArray();
        AssertRejected(bytes, offsetAt, "offset 1024");
    }

    [Fact]
    public void TensorDataLongerThanFile()
    {
        var bytes = OneTensor([4], 0, 0, out _, out _, out int offsetAt, dataBytes: 15).ToArray();
        AssertRejected(bytes, offsetAt, "16 byte(s)");
    }

    [Fact]
    public void HugeTensorOffset()
    {
        var bytes = OneTensor([4], 0, 1UL << 62, out _, out _, out int offsetAt).ToArray();
        AssertRejected(bytes, offsetAt, $"offset {1L << 62}");
    }

    [Fact]
    public void MisalignedOffset()
    {
        var bytes = OneTensor([4], 0, 16, out _, out _, out int offsetAt, dataBytes: 64).ToArray();
        AssertRejected(bytes, offsetAt, "multiple of 32");
    }

    [Fact]
    public void OverlappingTensors()
    {
        var b = new GgufBytes().Header(2, 0).Tensor("a", [16], 0, 0).Mark(out int second).Tensor("b", [4], 0, 32).PadTo(32).Zeros(64);
        AssertRejected(b.ToArray(), second + 8 + 1 + 4 + 8 + 4, "overlapping");
    }

    [Fact]
    public void DuplicateKeys()
    {
        var b = new GgufBytes().Header(0, 2).KvU32("dup", 1).Mark(out int at).KvU32("dup", 2);
        AssertRejected(b.ToArray(), at, "a second 'dup'");
    }

    [Fact]
    public void DuplicateTensorNames()
    {
        var b = new GgufBytes().Header(2, 0).Tensor("t", [4], 0, 0).Mark(out int at).Tensor("t", [4], 0, 32).PadTo(32).Zeros(64);
        AssertRejected(b.ToArray(), at, "a second 't'");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(24u)]
    [InlineData(1u << 31)]
    public void BadAlignmentValue(uint alignment)
    {
        var b = new GgufBytes().Header(0, 2).KvString("general.architecture", "x").Str("general.alignment")
            .U32((uint)GgufValueType.UInt32).Mark(out int at).U32(alignment);
        AssertRejected(b.ToArray(), at, $"found {alignment}");
    }

    [Fact]
    public void AlignmentOfWrongType()
    {
        var b = new GgufBytes().Header(0, 1).Str("general.alignment").Mark(out int at).U32((uint)GgufValueType.UInt64).U64(32);
        AssertRejected(b.ToArray(), at, "UInt32");
    }

    [Fact]
    public void CustomAlignmentIsHonoured()
    {
        var b = new GgufBytes().Header(1, 1).KvU32("general.alignment", 64).Tensor("t", [4], 0, 0).PadTo(64).Zeros(16);
        using var file = GgufFile.Parse(b.ToArray(), Name);
        Assert.Equal(64, file.Alignment);
        Assert.Equal(0, file.DataOffset % 64);
    }

    [Fact]
    public void EmptyFileOnDisk()
    {
        string path = Path.Combine(Path.GetTempPath(), $"basalt-empty-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, []);
        try
        {
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path).Dispose());
            Assert.Equal(path, e.File);
            Assert.Equal(0, e.Offset);
            Assert.StartsWith($"{path}: invalid GGUF at byte 0", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TruncatedFileOnDisk()
    {
        string path = Path.Combine(Path.GetTempPath(), $"basalt-short-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, new GgufBytes().Header(0, 1).Str("key").U32((uint)GgufValueType.UInt32).ToArray());
        try
        {
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path).Dispose());
            Assert.Equal(path, e.File);
            Assert.Equal(24 + 8 + 3 + 4, e.Offset);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EmptyArrayInMemory() => AssertRejected([], 0, "end of file");
}
