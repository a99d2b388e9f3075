using Basalt.Inference.Model;

namespace Basalt.Inference.Architectures;

/// <summary>Qwen2: the Llama block with Q/K/V biases (loaded when present) and NeoX-style RoPE.</summary>
internal sealed class Qwen2Architecture : LlamaArchitecture
{
    protected override string Name => "qwen2";
    protected override RopeStyle Rope => RopeStyle.NeoX;
}
