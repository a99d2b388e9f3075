using Basalt.Tensors.Packed;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Packed;

public sealed unsafe class Q8BlocksTests
{
    private static float[] Cases()
    {
        var rng = new Random(3);
        var x = new List<float>();
        // Block 0: amax 127, so d = 1 and the quants are x itself: exact halves test round-half-away both ways.
        x.AddRange(Enumerable.Range(0, 32).Select(i => i == 0 ? 127f : (i % 2 == 0 ? 1 : -1) * (i / 2 + 0.5f)));
        // Block 1: all zeros (d = 0).
        x.AddRange(new float[32]);
        // Block 2: tiny values; block 3: one large outlier; then random blocks of several magnitudes.
        x.AddRange(Enumerable.Range(0, 32).Select(i => (float)((rng.NextDouble() - 0.5) * 1e-30)));
        x.AddRange(Enumerable.Range(0, 32).Select(i => i == 7 ? -3000f : (float)(rng.NextDouble() - 0.5)));
        for (int b = 0; b < 12; b++)
        {
            double scale = Math.Pow(10, b % 6 - 3);
            x.AddRange(Enumerable.Range(0, 32).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)));
        }
        // Blocks 16-36: two more groups' worth, sixteen at a time and then five one by one, with a zero block, a block
        // whose scale falls below the smallest normal fp16, one whose scale passes the largest, and a repeat of block 0.
        for (int b = 0; b < 21; b++)
        {
            double scale = b switch { 5 or 19 => 0, 8 => 1e-6, 11 => 1e7, _ => Math.Pow(10, b % 7 - 3) };
            if (b == 14) x.AddRange(x.Take(32).ToArray());
            else x.AddRange(Enumerable.Range(0, 32).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)));
        }
        return [.. x];
    }

    [Fact]
    public void BytesScalesAndSumsMatchTheReferenceQuantization()
    {
        Assert.SkipUnless(PackedMatrix.CanPack(GgmlType.Q4_0, 16, 32), "no packed kernels on this CPU");
        var x = Cases();
        int blocks = x.Length / 32;
        var reference = new byte[blocks * 34];
        ReferenceKernels.QuantizeActivations(GgmlType.Q8_0, x, reference);
        var quants = new sbyte[blocks * 32];
        var shorts = new short[blocks * 32];
        var scales = new float[blocks];
        var wideScales = new float[blocks];
        var sums = new int[blocks];
        fixed (float* xp = x)
        fixed (sbyte* q = quants)
        fixed (short* s = shorts)
        fixed (float* d = scales)
        fixed (float* d2 = wideScales)
        fixed (int* sum = sums)
        {
            Q8Blocks.QuantizeBytes(xp, blocks, q, d, sum, sumFactor: 8);
            Q8Blocks.QuantizeShorts(xp, blocks, s, d2);
        }
        for (int k = 0; k < blocks; k++)
        {
            float expectedScale = FloatConversions.HalfToSingle(BitConverter.ToUInt16(reference, 34 * k));
            Assert.Equal(expectedScale, scales[k]);
            Assert.Equal(expectedScale, wideScales[k]);
            int total = 0;
            for (int j = 0; j < 32; j++)
            {
                sbyte expected = (sbyte)reference[34 * k + 2 + j];
                Assert.Equal(expected, quants[32 * k + j]);
                Assert.Equal(expected, shorts[32 * k + j]);
                total += expected;
            }
            Assert.Equal(8 * total, sums[k]);
        }
        // The exact halves of block 0 went away from zero: −0.5 → −1, 1.5 → 2, −1.5 → −2, 2.5 → 3.
        Assert.Equal(-1, quants[1]);
        Assert.Equal(2, quants[2]);
        Assert.Equal(-2, quants[3]);
        Assert.Equal(3, quants[4]);
    }

    [Fact]
    public void SuperBlocksMatchTheReferenceQ8K()
    {
        Assert.SkipUnless(PackedMatrix.CanPack(GgmlType.Q4_K, 16, 256), "no packed kernels on this CPU");
        var rng = new Random(4);
        var x = new float[256 * 6];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, i / 256 - 2));
        Array.Clear(x, 256, 256);                          // superblock 1: all zero
        x[600] = -9f; x[700] = 9f;                          // superblock 2: a tie of magnitudes, the first (negative) wins
        for (int i = 768; i < 1024; i++) x[i] = (i % 7 - 3) * 0.5f; // superblock 3: many exact halves after scaling
        x[1000] = 1.5f * 127 / 127;
        int supers = x.Length / 256;
        var reference = new byte[supers * 292];
        ReferenceKernels.QuantizeActivations(GgmlType.Q4_K, x, reference);
        var quants = new sbyte[x.Length];
        var scales = new float[supers];
        var sums = new int[supers * 16];
        fixed (float* xp = x)
        fixed (sbyte* q = quants)
        fixed (float* d = scales)
        fixed (int* sum = sums)
            Q8Blocks.QuantizeSuperBlocks(xp, supers, q, d, sum);
        for (int s = 0; s < supers; s++)
        {
            Assert.Equal(BitConverter.ToSingle(reference, 292 * s), scales[s]);
            for (int j = 0; j < 256; j++) Assert.Equal((sbyte)reference[292 * s + 4 + j], quants[256 * s + j]);
            for (int k = 0; k < 16; k++) Assert.Equal(BitConverter.ToInt16(reference, 292 * s + 260 + 2 * k), sums[16 * s + k]);
        }
    }
}
