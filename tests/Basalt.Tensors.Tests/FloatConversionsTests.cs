namespace Basalt.Tensors.Tests;

public class FloatConversionsTests
{
    [Fact]
    public void HalfToSingle_MatchesSystemHalf_ForEveryNonNaNPattern()
    {
        for (int bits = 0; bits <= 0xFFFF; bits++)
        {
            var half = BitConverter.UInt16BitsToHalf((ushort)bits);
            if (Half.IsNaN(half))
            {
                Assert.True(float.IsNaN(FloatConversions.HalfToSingle((ushort)bits)));
                continue;
            }
            Assert.Equal(BitConverter.SingleToUInt32Bits((float)half), BitConverter.SingleToUInt32Bits(FloatConversions.HalfToSingle((ushort)bits)));
        }
    }

    [Fact]
    public void SingleToHalf_RoundsToNearestEven()
    {
        // 1 + 2^-11 is exactly halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa (1).
        Assert.Equal(0x3C00, FloatConversions.SingleToHalf(1 + MathF.Pow(2, -11)));
        // 1 + 3·2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
        Assert.Equal(0x3C02, FloatConversions.SingleToHalf(1 + 3 * MathF.Pow(2, -11)));
        Assert.Equal(0x7C00, FloatConversions.SingleToHalf(65520f));
        Assert.Equal(0x7BFF, FloatConversions.SingleToHalf(65519f));
        Assert.Equal(0x0001, FloatConversions.SingleToHalf(MathF.Pow(2, -24)));
    }

    [Fact]
    public void BFloat16_RoundTripsAndRoundsToNearestEven()
    {
        Assert.Equal(0x3F80, FloatConversions.SingleToBFloat16(1.0f));
        // 0x3F808000 is halfway between 0x3F80 and 0x3F81: the even one wins; one ulp more rounds up.
        Assert.Equal(0x3F80, FloatConversions.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808000)));
        Assert.Equal(0x3F82, FloatConversions.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x3F818000)));
        Assert.Equal(0x3F81, FloatConversions.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808001)));
        // Subnormals are rounded, not flushed, as in current ggml.
        Assert.Equal(0x0001, FloatConversions.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x00010000)));
        // NaN keeps its top bits and is forced quiet.
        Assert.Equal(0x7F80 | 64, FloatConversions.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x7F800001)));
        for (int bits = 0; bits <= 0xFFFF; bits++)
        {
            float f = FloatConversions.BFloat16ToSingle((ushort)bits);
            if (!float.IsNaN(f)) Assert.Equal(bits, FloatConversions.SingleToBFloat16(f));
        }
    }

    [Fact]
    public void ConvertHalfToSingle_AgreesWithScalar()
    {
        var rng = new Random(7);
        var src = new byte[2 * 300];
        for (int i = 0; i < 300; i++) BitConverter.TryWriteBytes(src.AsSpan(2 * i), FloatConversions.SingleToHalf((float)(rng.NextDouble() * 200 - 100)));
        for (int n = 0; n <= 300; n += 7)
        {
            var fast = new float[n];
            FloatConversions.ConvertHalfToSingle(src, fast);
            for (int i = 0; i < n; i++) Assert.Equal(FloatConversions.ReadHalf(src.AsSpan(2 * i)), fast[i]);
        }
    }
}

public sealed class HalfPrecisionRoundingTests
{
    [Fact]
    public void RoundToHalfPrecisionEqualsTheHalfCastForEveryKindOfValue()
    {
        var rng = new Random(12);
        var values = new List<float> { 65504f, 65519.99f, 65520f, 70000f, -70000f, 6.1035156e-05f, 6.1035153e-05f, 2.9802322e-08f, 5.9604645e-08f,
            1.00048828125f, -1.00146484375f, 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, 1e-30f };
        for (int i = 0; i < 4000; i++) values.Add(BitConverter.Int32BitsToSingle(rng.Next()) * (rng.Next(2) == 0 ? 1 : -1));
        for (int i = 0; i < 4000; i++) values.Add((float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 20))));
        var source = values.ToArray();
        var result = new float[source.Length];
        FloatConversions.RoundToHalfPrecision(source, result);
        for (int i = 0; i < source.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits((float)(Half)source[i]), BitConverter.SingleToInt32Bits(result[i]));
    }

    [Fact]
    public void NarrowToHalfGivesTheBitsOfTheCastForEveryKindOfValue()
    {
        var rng = new Random(13);
        var values = new List<float> { 65504f, 65519.99f, 65520f, 70000f, -70000f, 6.1035156e-05f, 6.1035153e-05f, -6.1035153e-05f, 2.9802322e-08f,
            2.9802326e-08f, 5.9604645e-08f, 1.00048828125f, -1.00146484375f, 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
            -float.NaN, BitConverter.Int32BitsToSingle(0x7F800001), BitConverter.Int32BitsToSingle(0x7FABCDEF), float.Epsilon, 1e-30f, -1e-30f };
        for (int i = 0; i < 4000; i++) values.Add(BitConverter.Int32BitsToSingle(rng.Next()) * (rng.Next(2) == 0 ? 1 : -1));
        for (int i = 0; i < 4000; i++) values.Add((float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 20))));
        values.Add(3f); // a scalar tail after the vector loop
        var source = values.ToArray();
        var result = new Half[source.Length];
        FloatConversions.NarrowToHalf(source, result);
        for (int i = 0; i < source.Length; i++)
            Assert.True(BitConverter.HalfToUInt16Bits((Half)source[i]) == BitConverter.HalfToUInt16Bits(result[i]),
                $"{source[i]:R} (0x{BitConverter.SingleToUInt32Bits(source[i]):X8}): cast 0x{BitConverter.HalfToUInt16Bits((Half)source[i]):X4}, got 0x{BitConverter.HalfToUInt16Bits(result[i]):X4}");
    }
}

public sealed class HalfRowWideningTests
{
    [Theory]
    [InlineData(64, 256, 37)] // one head of a cache: a vectorised width
    [InlineData(20, 24, 5)]   // a width the vector loop does not take
    public void WidenHalfRowsGathersTheRunsExactly(int width, int stride, int rows)
    {
        var rng = new Random(width);
        // Every bit pattern is a half: normals, subnormals, zeros, infinities (NaNs are compared as NaN).
        var src = Enumerable.Range(0, (rows - 1) * stride + width).Select(_ => BitConverter.UInt16BitsToHalf((ushort)rng.Next(65536))).ToArray();
        src[0] = Half.PositiveInfinity;
        src[1] = BitConverter.UInt16BitsToHalf(0x0001);
        var dst = new float[rows * width];
        FloatConversions.WidenHalfRows(src, stride, rows, width, dst);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < width; i++)
            {
                float expected = (float)src[r * stride + i], actual = dst[r * width + i];
                if (float.IsNaN(expected)) Assert.True(float.IsNaN(actual), $"row {r}, element {i}");
                else Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual));
            }
    }

    [Fact]
    public void WidenHalfRowsRefusesASourceTooShort() =>
        Assert.Throws<ArgumentException>(() => FloatConversions.WidenHalfRows(new Half[100], 64, 2, 64, new float[128]));
}
