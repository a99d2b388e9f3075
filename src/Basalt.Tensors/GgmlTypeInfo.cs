namespace Basalt.Tensors;

/// <summary>Storage layout of one ggml type: how many elements share a block and how many bytes a block takes.</summary>
/// <param name="Type">The type.</param>
/// <param name="BlockSize">Elements per block (1 for plain scalar types).</param>
/// <param name="BytesPerBlock">Bytes one block occupies.</param>
public readonly record struct GgmlTypeInfo(GgmlType Type, int BlockSize, int BytesPerBlock)
{
    /// <summary>Elements per super-block in the k-quant and i-quant families.</summary>
    public const int QK_K = 256;

    private static readonly GgmlTypeInfo[] Table =
    [
        new(GgmlType.F32, 1, 4),
        new(GgmlType.F16, 1, 2),
        new(GgmlType.Q4_0, 32, 2 + 16),
        new(GgmlType.Q4_1, 32, 2 + 2 + 16),
        new(GgmlType.Q5_0, 32, 2 + 4 + 16),
        new(GgmlType.Q5_1, 32, 2 + 2 + 4 + 16),
        new(GgmlType.Q8_0, 32, 2 + 32),
        new(GgmlType.Q8_1, 32, 2 + 2 + 32),
        new(GgmlType.Q2_K, QK_K, QK_K / 16 + QK_K / 4 + 2 + 2),
        new(GgmlType.Q3_K, QK_K, QK_K / 8 + QK_K / 4 + 12 + 2),
        new(GgmlType.Q4_K, QK_K, 2 + 2 + 12 + QK_K / 2),
        new(GgmlType.Q5_K, QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2),
        new(GgmlType.Q6_K, QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),
        new(GgmlType.Q8_K, QK_K, 4 + QK_K + QK_K / 16 * 2),
        new(GgmlType.IQ2_XXS, QK_K, 2 + QK_K / 8 * 2),
        new(GgmlType.IQ2_XS, QK_K, 2 + QK_K / 8 * 2 + QK_K / 32),
        new(GgmlType.IQ3_XXS, QK_K, 2 + 3 * QK_K / 8),
        new(GgmlType.IQ1_S, QK_K, 2 + QK_K / 8 + QK_K / 16),
        new(GgmlType.IQ4_NL, 32, 2 + 16),
        new(GgmlType.IQ3_S, QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 8 + QK_K / 64),
        new(GgmlType.IQ2_S, QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 32),
        new(GgmlType.IQ4_XS, QK_K, 2 + 2 + QK_K / 64 + QK_K / 2),
        new(GgmlType.I8, 1, 1),
        new(GgmlType.I16, 1, 2),
        new(GgmlType.I32, 1, 4),
        new(GgmlType.I64, 1, 8),
        new(GgmlType.F64, 1, 8),
        new(GgmlType.IQ1_M, QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),
        new(GgmlType.BF16, 1, 2),
        new(GgmlType.TQ1_0, QK_K, (QK_K - 4 * QK_K / 64) / 5 + QK_K / 64 + 2),
        new(GgmlType.TQ2_0, QK_K, QK_K / 4 + 2),
        new(GgmlType.MXFP4, 32, 1 + 16),
    ];

    private static readonly GgmlTypeInfo?[] ById = BuildIndex();

    private static GgmlTypeInfo?[] BuildIndex()
    {
        var byId = new GgmlTypeInfo?[(int)Table.Max(t => (uint)t.Type) + 1];
        foreach (var info in Table) byId[(int)info.Type] = info;
        return byId;
    }

    /// <summary>Every type this build knows, in id order.</summary>
    public static IReadOnlyList<GgmlTypeInfo> All => Table;

    /// <summary>Looks a type up by its numeric id; false for ids ggml never had or has removed.</summary>
    public static bool TryGet(uint id, out GgmlTypeInfo info)
    {
        if (id < ById.Length && ById[id] is { } found)
        {
            info = found;
            return true;
        }
        info = default;
        return false;
    }

    /// <summary>The layout of a known type.</summary>
    public static GgmlTypeInfo Of(GgmlType type) =>
        TryGet((uint)type, out var info) ? info : throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown ggml type.");

    /// <summary>Whether the type's name marks it as quantized (block size above one or an integer-coded float).</summary>
    public bool IsQuantized => BlockSize > 1;

    /// <summary>Bytes needed for <paramref name="elements"/> elements, which must be a whole number of blocks.</summary>
    public long RowBytes(long elements) => elements / BlockSize * BytesPerBlock;
}
