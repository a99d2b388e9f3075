using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

public class DequantizeTests
{
    [Theory]
    [MemberData(nameof(RandomRows.WeightTypeData), MemberType = typeof(RandomRows))]
    [InlineData(GgmlType.Q8_1)]
    [InlineData(GgmlType.Q8_K)]
    public void Fast_EqualsReference_BitForBit(GgmlType type)
    {
        // The fast path performs the reference's float operations one for one (no FMA, same association), so any
        // difference at all would be a bug rather than rounding.
        var rng = new Random(1000 + (int)type);
        foreach (int n in RandomRows.Lengths(type))
        {
            var row = RandomRows.Row(type, n, rng);
            var expected = new float[n];
            var actual = new float[n];
            ReferenceKernels.Dequantize(type, row, expected);
            FastKernels.Dequantize(type, row, actual);
            for (int i = 0; i < n; i++)
            {
                if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                    Assert.Fail($"{type} n={n} element {i}: reference {expected[i]:R}, fast {actual[i]:R}");
            }
        }
    }

    [Fact]
    public void Q4_0_HandBuiltBlock()
    {
        // d = 0.5; byte j holds element j in the low nibble and element j + 16 in the high nibble.
        var block = new byte[18];
        FloatConversions.WriteHalf(block, 0.5f);
        for (int j = 0; j < 16; j++) block[2 + j] = (byte)(j | (15 - j) << 4);
        var y = new float[32];
        ReferenceKernels.Dequantize(GgmlType.Q4_0, block, y);
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal((j - 8) * 0.5f, y[j]);
            Assert.Equal((7 - j) * 0.5f, y[j + 16]);
        }
    }

    [Fact]
    public void Q5_0_FifthBitComesFromQhBitOfTheElement()
    {
        var block = new byte[22];
        FloatConversions.WriteHalf(block, 1f);
        BitConverter.TryWriteBytes(block.AsSpan(2), 0x80000001u); // elements 0 and 31 get +16
        var y = new float[32];
        ReferenceKernels.Dequantize(GgmlType.Q5_0, block, y);
        Assert.Equal(0f, y[0]);
        Assert.Equal(-16f, y[1]);
        Assert.Equal(0f, y[31]);
        Assert.Equal(-16f, y[16]);
    }

    [Fact]
    public void RejectsPartialBlocksAndShortRows()
    {
        Assert.Throws<ArgumentException>(() => ReferenceKernels.Dequantize(GgmlType.Q4_0, new byte[18], new float[16]));
        Assert.Throws<ArgumentException>(() => FastKernels.Dequantize(GgmlType.Q4_K, new byte[143], new float[256]));
    }
}
