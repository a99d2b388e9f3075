using System.Buffers.Binary;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

/// <summary>Seeded random rows of any supported type: random quant bits with finite, moderate scale fields.</summary>
internal static class RandomRows
{
    public static readonly GgmlType[] WeightTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
        GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    public static TheoryData<GgmlType> WeightTypeData => new(WeightTypes);

    /// <summary>Every row length the tests try: 1..256 for the float types, 1..N whole blocks otherwise.</summary>
    public static IEnumerable<int> Lengths(GgmlType type)
    {
        int block = GgmlTypeInfo.Of(type).BlockSize;
        if (block == 1) return Enumerable.Range(1, 256);
        return Enumerable.Range(1, block == 32 ? 12 : 4).Select(k => k * block);
    }

    public static float[] Floats(Random rng, int n, double scale = 1.0)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return x;
    }

    public static byte[] Row(GgmlType type, int n, Random rng)
    {
        var info = GgmlTypeInfo.Of(type);
        var row = new byte[info.RowBytes(n)];
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(4 * i), Scale(rng) * 10);
                return row;
            case GgmlType.F16:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), FloatConversions.SingleToHalf(Scale(rng) * 10));
                return row;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), FloatConversions.SingleToBFloat16(Scale(rng) * 10));
                return row;
        }
        rng.NextBytes(row);
        for (int b = 0; b < row.Length / info.BytesPerBlock; b++)
        {
            var block = row.AsSpan(b * info.BytesPerBlock, info.BytesPerBlock);
            foreach (int offset in HalfFields(type)) FloatConversions.WriteHalf(block[offset..], Scale(rng));
            if (type == GgmlType.Q8_K) BinaryPrimitives.WriteSingleLittleEndian(block, Scale(rng));
        }
        return row;
    }

    /// <summary>Byte offsets of the fp16 scale/min fields inside one block.</summary>
    public static int[] HalfFields(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
        GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q8_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q2_K => [80, 82],
        GgmlType.Q3_K => [108],
        GgmlType.Q6_K => [208],
        _ => [],
    };

    private static float Scale(Random rng) => (float)((rng.NextDouble() * 2 - 1) * 0.1);

    public static byte[] Quantize(GgmlType weightType, float[] x)
    {
        var xq = new byte[ActivationFormat.RowBytes(weightType, x.Length)];
        ReferenceKernels.QuantizeActivations(weightType, x, xq);
        return xq;
    }
}
