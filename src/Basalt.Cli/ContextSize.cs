using Basalt.Inference.Model;

namespace Basalt.Cli;

/// <summary>Chooses the context length of a CLI sequence.</summary>
internal static class ContextSize
{
    // Enough for interactive use without reserving a 128k-token cache for a model that advertises one.
    private const int DefaultCap = 4096;

    public static int Resolve(int? requested, TransformerModel model)
    {
        int max = model.Config.ContextLength;
        if (requested is int n)
        {
            if (n < 1 || n > max) throw new CliUsageException($"--ctx-size must be between 1 and the model's context length {max}; got {n}.");
            return n;
        }
        return Math.Min(max, DefaultCap);
    }
}
