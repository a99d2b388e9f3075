namespace Basalt.Inference.Model;

/// <summary>The gate activation of the feed-forward block.</summary>
public enum Activation
{
    /// <summary>SiLU (SwiGLU feed-forward).</summary>
    Silu,

    /// <summary>GELU, tanh approximation (GeGLU feed-forward).</summary>
    Gelu,
}
