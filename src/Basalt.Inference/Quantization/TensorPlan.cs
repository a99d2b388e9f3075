using Basalt.Tensors;

namespace Basalt.Inference.Quantization;

/// <summary>One tensor of a quantization plan: its shape, the type it has and the type it will be written in.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Dimensions">ggml dimensions, row length first.</param>
/// <param name="SourceType">The type it has in the input.</param>
/// <param name="TargetType">The type it will be written in (equal to the source type when it is copied as is).</param>
public sealed record TensorPlan(string Name, long[] Dimensions, GgmlType SourceType, GgmlType TargetType)
{
    /// <summary>Whether the data is converted rather than copied.</summary>
    public bool Converts => SourceType != TargetType;
}
