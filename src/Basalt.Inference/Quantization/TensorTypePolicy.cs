using System.Globalization;
using Basalt.Tensors;
using static Basalt.Inference.Quantization.LlamaFileType;

namespace Basalt.Inference.Quantization;

/// <summary>
/// Chooses each tensor's type for a quantization preset the way llama.cpp's <c>llama_tensor_get_type</c> does
/// (without an importance matrix or overrides): output and tied embeddings to Q6_K, attn_v and ffn_down bumped on
/// some layers in the _M/_S/_L mixes, norms and other 1-D tensors left as they are, and rows that do not fit the
/// block size falling back to a type whose block fits.
/// </summary>
public sealed class TensorTypePolicy
{
    private readonly QuantizationPreset _preset;
    private readonly QuantizationModelInfo _model;
    private readonly bool _pure;
    private readonly bool _hasOutput;
    private readonly int _attentionWvCount;
    private int _attentionWv, _ffnDown, _ffnGate, _ffnUp;

    private TensorTypePolicy(QuantizationPreset preset, QuantizationModelInfo model, bool pure, IReadOnlyList<string> names)
    {
        _preset = preset;
        _model = model;
        _pure = pure;
        _hasOutput = names.Contains("output.weight");
        _attentionWvCount = names.Count(n => n.Contains("attn_v.weight") || n.Contains("attn_qkv.weight") || n.Contains("attn_kv_b.weight"));
    }

    /// <summary>
    /// The order llama.cpp writes a model's tensors in: tensors outside the blocks first, then block by block, each
    /// group sorted by name (ordinal). The policy's per-layer counters assume this order.
    /// </summary>
    public static IComparer<string> TensorOrder { get; } = Comparer<string>.Create((a, b) =>
    {
        int la = LayerOf(a), lb = LayerOf(b);
        return la != lb ? la.CompareTo(lb) : string.CompareOrdinal(a, b);
    });

    /// <summary>
    /// Plans a whole model: returns, in llama.cpp's write order, each tensor with the type it gets. Pass
    /// <paramref name="pure"/> for llama-quantize's <c>--pure</c> (every quantizable matrix gets the default type).
    /// </summary>
    public static IReadOnlyList<TensorPlan> Plan(QuantizationPreset preset, QuantizationModelInfo model,
        IEnumerable<(string Name, long[] Dimensions, GgmlType SourceType)> tensors, bool pure = false)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        var ordered = tensors.OrderBy(t => t.Name, TensorOrder).ToList();
        var policy = new TensorTypePolicy(preset, model, pure, ordered.Select(t => t.Name).ToList());
        return ordered.Select(t => new TensorPlan(t.Name, t.Dimensions, t.SourceType, policy.Choose(t.Name, t.Dimensions, t.SourceType))).ToList();
    }

    /// <summary>Whether llama-quantize would quantize this tensor at all (2-D+ weights other than norms and a few small tables).</summary>
    public static bool IsQuantizable(string name, long[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        int nDims = 1;
        for (int i = dimensions.Length - 1; i >= 1; i--)
        {
            if (dimensions[i] != 1)
            {
                nDims = i + 1;
                break;
            }
        }
        return name.EndsWith("weight", StringComparison.Ordinal) && nDims >= 2
            && !name.Contains("_norm.weight") && !name.Contains("ffn_gate_inp.weight")
            && name != "position_embd.weight" && name != "token_types.weight"
            && !name.Contains("ssm_conv1d.weight") && !name.Contains("time_mix_first.weight")
            && !name.Contains("time_mix_w1.weight") && !name.Contains("time_mix_w2.weight")
            && !name.Contains("time_mix_decay_w1.weight") && !name.Contains("time_mix_decay_w2.weight")
            && !name.Contains("time_mix_lerp_fused.weight") && !name.Contains("attn_rel_b.weight");
    }

    private GgmlType Choose(string name, long[] dimensions, GgmlType sourceType)
    {
        if (!IsQuantizable(name, dimensions)) return sourceType;
        var type = _preset.DefaultType;
        if (!_pure && _preset.IsQuantized) type = MixType(name, dimensions[0], type);
        return type;
    }

    private static bool UseMoreBits(int layer, int layers) => layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    private GgmlType MixType(string name, long rowLength, GgmlType type)
    {
        var ftype = _preset.FileType;
        bool falcon = _model.Architecture == "falcon";
        if (name == "output.weight" || (!_hasOutput && name == "token_embd.weight"))
        {
            if (falcon || rowLength % GgmlTypeInfo.Of(type).BlockSize != 0) type = GgmlType.Q8_0;
            else if (type != GgmlType.Q8_0) type = GgmlType.Q6_K;
        }
        else if (name == "token_embd.weight")
        {
            // Only the i-quant and ternary presets, which are not supported here, change the embeddings.
        }
        else if (name.Contains("attn_v.weight"))
        {
            if (ftype == MostlyQ2_K) type = _model.GroupSize >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ftype == MostlyQ3_K_M) type = _attentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            else if (ftype == MostlyQ3_K_L) type = GgmlType.Q5_K;
            else if (ftype is MostlyQ4_K_M or MostlyQ5_K_M && UseMoreBits(_attentionWv, _attentionWvCount)) type = GgmlType.Q6_K;
            else if (ftype == MostlyQ4_K_S && _attentionWv < 4) type = GgmlType.Q5_K;
            // With 8 query heads per key/value head, attn_v is 8x smaller than attn_q: more bits there are cheap.
            if (_model.Is70B && type is GgmlType.Q3_K or GgmlType.Q4_K) type = GgmlType.Q5_K;
            if (_model.ExpertCount == 8) type = GgmlType.Q8_0;
            _attentionWv++;
        }
        else if (name.Contains("attn_k.weight"))
        {
            if (_model.ExpertCount == 8) type = GgmlType.Q8_0;
        }
        else if (name.Contains("attn_q.weight"))
        {
        }
        else if (name.Contains("ffn_down"))
        {
            var (layer, layers) = LayerInfo(_ffnDown, name);
            if (ftype == MostlyQ2_K) type = GgmlType.Q3_K;
            else if (ftype == MostlyQ3_K_M)
                type = layer < layers / 16 ? GgmlType.Q5_K : !falcon || UseMoreBits(layer, layers) ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ftype == MostlyQ3_K_L) type = falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
            else if (ftype == MostlyQ4_K_M)
            {
                if (falcon) type = layer < layers / 16 ? GgmlType.Q6_K : UseMoreBits(layer, layers) ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (UseMoreBits(layer, layers)) type = GgmlType.Q6_K;
            }
            else if (ftype == MostlyQ5_K_M && UseMoreBits(layer, layers)) type = GgmlType.Q6_K;
            else if (ftype == MostlyQ4_K_S && !falcon && layer < layers / 8) type = GgmlType.Q5_K;
            _ffnDown++;
        }
        else if (name.Contains("attn_output.weight"))
        {
            if (!falcon)
            {
                if (_model.ExpertCount == 8)
                {
                    if (ftype is MostlyQ2_K or MostlyQ3_K_S or MostlyQ3_K_M or MostlyQ4_K_S or MostlyQ4_K_M) type = GgmlType.Q5_K;
                }
                else if (ftype == MostlyQ2_K) type = GgmlType.Q3_K;
                else if (ftype == MostlyQ3_K_M) type = GgmlType.Q4_K;
                else if (ftype == MostlyQ3_K_L) type = GgmlType.Q5_K;
            }
            else if (ftype == MostlyQ3_K_L) type = GgmlType.Q4_K;
        }
        else if (name.Contains("attn_qkv.weight"))
        {
            if (ftype is MostlyQ3_K_M or MostlyQ3_K_L) type = GgmlType.Q4_K;
            else if (ftype == MostlyQ4_K_M) type = GgmlType.Q5_K;
            else if (ftype == MostlyQ5_K_M) type = GgmlType.Q6_K;
        }
        else if (name.Contains("ffn_gate"))
        {
            LayerInfo(_ffnGate, name);
            _ffnGate++;
        }
        else if (name.Contains("ffn_up"))
        {
            LayerInfo(_ffnUp, name);
            _ffnUp++;
        }
        return FitRowLength(name, rowLength, type);
    }

    /// <summary>llama.cpp's fallback for rows that are not a whole number of the chosen type's blocks.</summary>
    private static GgmlType FitRowLength(string name, long rowLength, GgmlType type)
    {
        if (rowLength % GgmlTypeInfo.Of(type).BlockSize == 0) return type;
        var fallback = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.IQ4_NL,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => throw new NotSupportedException($"Tensor '{name}' has rows of {rowLength} elements, which {type} cannot hold, and llama.cpp has no fallback for it."),
        };
        return rowLength % GgmlTypeInfo.Of(fallback).BlockSize != 0 ? GgmlType.F16 : fallback;
    }

    /// <summary>The layer index llama.cpp uses: the running count, or, for MoE models, the number in the name.</summary>
    private (int Layer, int Layers) LayerInfo(int counter, string name)
    {
        int layers = _model.LayerCount;
        if (Math.Max(1, _model.ExpertCount) <= 1) return (counter, layers);
        int layer = LayerOf(name);
        if (layer < 0 || layer >= layers) throw new InvalidOperationException($"Tensor '{name}' names no layer in [0, {layers}).");
        return (layer, layers);
    }

    /// <summary>The N of a <c>blk.N.</c> prefix, or -1 (as llama.cpp's sscanf leaves it) when there is none.</summary>
    private static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int end = 4;
        if (end < name.Length && name[end] is '-' or '+') end++;
        while (end < name.Length && char.IsAsciiDigit(name[end])) end++;
        return int.TryParse(name.AsSpan(4, end - 4), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : -1;
    }
}
