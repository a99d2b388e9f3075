namespace Basalt.Inference.Quantization;

/// <summary>
/// llama.cpp's <c>llama_ftype</c> numbering, stored in a GGUF's <c>general.file_type</c>: the preset a file was
/// quantized with (its dominant weight type; 1-D tensors stay F32).
/// </summary>
public enum LlamaFileType : uint
{
    /// <summary>Every tensor F32.</summary>
    AllF32 = 0,
    /// <summary>Matrices F16.</summary>
    MostlyF16 = 1,
    /// <summary>Matrices Q4_0.</summary>
    MostlyQ4_0 = 2,
    /// <summary>Matrices Q4_1.</summary>
    MostlyQ4_1 = 3,
    /// <summary>Matrices Q8_0.</summary>
    MostlyQ8_0 = 7,
    /// <summary>Matrices Q5_0.</summary>
    MostlyQ5_0 = 8,
    /// <summary>Matrices Q5_1.</summary>
    MostlyQ5_1 = 9,
    /// <summary>Q2_K mix.</summary>
    MostlyQ2_K = 10,
    /// <summary>Q3_K small mix.</summary>
    MostlyQ3_K_S = 11,
    /// <summary>Q3_K medium mix.</summary>
    MostlyQ3_K_M = 12,
    /// <summary>Q3_K large mix.</summary>
    MostlyQ3_K_L = 13,
    /// <summary>Q4_K small mix.</summary>
    MostlyQ4_K_S = 14,
    /// <summary>Q4_K medium mix.</summary>
    MostlyQ4_K_M = 15,
    /// <summary>Q5_K small mix.</summary>
    MostlyQ5_K_S = 16,
    /// <summary>Q5_K medium mix.</summary>
    MostlyQ5_K_M = 17,
    /// <summary>Matrices Q6_K.</summary>
    MostlyQ6_K = 18,
    /// <summary>Matrices BF16.</summary>
    MostlyBF16 = 32,
}
