namespace Basalt.Tensors.Quants;

/// <summary>
/// The format an activation vector takes before it meets a weight row of a given type, following ggml's
/// <c>vec_dot_type</c>: Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1 (whose offset needs the block sum), Q8_K for the
/// k-quants. For F16 and BF16 weights ggml rounds the activations to the weight's format; here they stay f32 in memory
/// but hold values already rounded to f16/bf16, which gives the same products (a product of two 11-bit or two 8-bit
/// significands is exact in f32) while converting only the weight side per row.
/// </summary>
public static class ActivationFormat
{
    /// <summary>Whether row kernels exist for <paramref name="weightType"/>.</summary>
    public static bool IsSupported(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => true,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 => true,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => true,
        _ => false,
    };

    /// <summary>The storage type of quantized activations for <paramref name="weightType"/> (F32 for the float weight types).</summary>
    public static GgmlType For(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => GgmlType.F32,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => throw new NotSupportedException($"No row kernels for {weightType}."),
    };

    /// <summary>Bytes needed to hold <paramref name="columns"/> activations quantized for <paramref name="weightType"/>.</summary>
    public static int RowBytes(GgmlType weightType, int columns)
    {
        var info = GgmlTypeInfo.Of(For(weightType));
        CheckColumns(weightType, columns);
        return columns / info.BlockSize * info.BytesPerBlock;
    }

    /// <summary>How many activations a quantized buffer of <paramref name="bytes"/> bytes holds.</summary>
    public static int ElementCount(GgmlType weightType, int bytes)
    {
        var info = GgmlTypeInfo.Of(For(weightType));
        if (bytes % info.BytesPerBlock != 0)
            throw new ArgumentException($"{bytes} bytes is not a whole number of {info.Type} blocks.", nameof(bytes));
        return bytes / info.BytesPerBlock * info.BlockSize;
    }

    /// <summary>Throws unless <paramref name="columns"/> is a whole number of <paramref name="weightType"/> blocks.</summary>
    public static void CheckColumns(GgmlType weightType, int columns)
    {
        int block = GgmlTypeInfo.Of(weightType).BlockSize;
        if (columns < 0 || columns % block != 0)
            throw new ArgumentException($"{columns} columns is not a whole number of {weightType} blocks ({block}).", nameof(columns));
    }
}
