using Basalt.Tensors;

namespace Basalt.Inference.Quantization;

/// <summary>
/// A named quantization target as <c>llama-quantize</c> spells it (Q4_K_M, Q8_0, F16, ...): the file type written to
/// <c>general.file_type</c> and the default weight type that the per-tensor policy starts from.
/// </summary>
/// <param name="Name">The canonical name, e.g. <c>Q4_K_M</c>.</param>
/// <param name="FileType">The llama.cpp file type number.</param>
/// <param name="DefaultType">The type most matrices get.</param>
public sealed record QuantizationPreset(string Name, LlamaFileType FileType, GgmlType DefaultType)
{
    private static readonly QuantizationPreset[] Presets =
    [
        new("F32", LlamaFileType.AllF32, GgmlType.F32),
        new("F16", LlamaFileType.MostlyF16, GgmlType.F16),
        new("BF16", LlamaFileType.MostlyBF16, GgmlType.BF16),
        new("Q8_0", LlamaFileType.MostlyQ8_0, GgmlType.Q8_0),
        new("Q4_0", LlamaFileType.MostlyQ4_0, GgmlType.Q4_0),
        new("Q4_1", LlamaFileType.MostlyQ4_1, GgmlType.Q4_1),
        new("Q5_0", LlamaFileType.MostlyQ5_0, GgmlType.Q5_0),
        new("Q5_1", LlamaFileType.MostlyQ5_1, GgmlType.Q5_1),
        new("Q2_K", LlamaFileType.MostlyQ2_K, GgmlType.Q2_K),
        new("Q3_K_S", LlamaFileType.MostlyQ3_K_S, GgmlType.Q3_K),
        new("Q3_K_M", LlamaFileType.MostlyQ3_K_M, GgmlType.Q3_K),
        new("Q3_K_L", LlamaFileType.MostlyQ3_K_L, GgmlType.Q3_K),
        new("Q4_K_S", LlamaFileType.MostlyQ4_K_S, GgmlType.Q4_K),
        new("Q4_K_M", LlamaFileType.MostlyQ4_K_M, GgmlType.Q4_K),
        new("Q5_K_S", LlamaFileType.MostlyQ5_K_S, GgmlType.Q5_K),
        new("Q5_K_M", LlamaFileType.MostlyQ5_K_M, GgmlType.Q5_K),
        new("Q6_K", LlamaFileType.MostlyQ6_K, GgmlType.Q6_K),
    ];

    // llama-quantize accepts the bare k-quant names as the medium mixes.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Q3_K"] = "Q3_K_M",
        ["Q4_K"] = "Q4_K_M",
        ["Q5_K"] = "Q5_K_M",
    };

    /// <summary>Every preset, in llama-quantize's listing order of the supported ones.</summary>
    public static IReadOnlyList<QuantizationPreset> All => Presets;

    /// <summary>Whether this preset's default type is a block-quantized one (only those get the per-tensor mix).</summary>
    public bool IsQuantized => GgmlTypeInfo.Of(DefaultType).IsQuantized;

    /// <summary>Looks a preset up by name (case-insensitive; Q3_K, Q4_K, Q5_K mean their _M mixes).</summary>
    public static bool TryParse(string name, out QuantizationPreset preset)
    {
        ArgumentNullException.ThrowIfNull(name);
        string canonical = Aliases.GetValueOrDefault(name, name);
        preset = Array.Find(Presets, p => string.Equals(p.Name, canonical, StringComparison.OrdinalIgnoreCase))!;
        return preset is not null;
    }

    /// <summary>The preset named <paramref name="name"/>; <see cref="ArgumentException"/> listing the valid names otherwise.</summary>
    public static QuantizationPreset Parse(string name) => TryParse(name, out var p) ? p
        : throw new ArgumentException($"Unknown quantization type '{name}'; expected one of {string.Join(", ", Presets.Select(x => x.Name))}.", nameof(name));

    /// <inheritdoc/>
    public override string ToString() => Name;
}
