using Basalt.Gguf;
using Basalt.Inference.Architectures;
using Basalt.Tokenizers;

namespace Basalt.Inference.Model;

/// <summary>A loaded model: its mapped file, hyperparameters, weights and tokenizer. Immutable and shareable across sequences.</summary>
public sealed class TransformerModel : IDisposable
{
    private TransformerModel(GgufFile file, ModelConfig config, ModelWeights weights, Tokenizer tokenizer)
    {
        File = file;
        Config = config;
        Weights = weights;
        Tokenizer = tokenizer;
    }

    /// <summary>The mapped model file.</summary>
    public GgufFile File { get; }

    /// <summary>Hyperparameters.</summary>
    public ModelConfig Config { get; }

    /// <summary>Weights, viewed in the file.</summary>
    public ModelWeights Weights { get; }

    /// <summary>The model's tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>
    /// Bytes of weights one decode step reads: every tensor of the file once, the token embedding only the row it looks
    /// up (all of it when the output projection is the embedding too).
    /// </summary>
    public long DecodeWeightBytes
    {
        get
        {
            long total = File.Tensors.Sum(t => t.ByteSize);
            var embd = File.FindTensor("token_embd.weight");
            bool tied = File.FindTensor("output.weight") is null;
            return embd is null || tied ? total : total - embd.ByteSize + embd.ByteSize / Config.VocabSize;
        }
    }

    /// <summary>Opens a GGUF model and checks that every tensor the architecture needs is there with the right shape.</summary>
    /// <exception cref="GgufFormatException">The file is not valid GGUF.</exception>
    /// <exception cref="ModelFormatException">The architecture or tensors are not what Basalt can run.</exception>
    public static TransformerModel Load(string path)
    {
        var file = GgufFile.Open(path);
        try
        {
            string archName = file.Metadata.GetString("general.architecture")
                ?? throw new ModelFormatException($"{path}: no general.architecture; expected e.g. \"llama\".");
            var tokenizer = Tokenizer.FromGguf(file);
            var arch = ArchitectureRegistry.Get(archName, path);
            var config = arch.ReadConfig(file, tokenizer.Vocabulary.Count);
            var weights = arch.LoadWeights(file, config);
            if (RepackOnLoad)
            {
                foreach (var w in weights.Matrices()) w.Pack();
            }
            return new TransformerModel(file, config, weights, tokenizer);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether <see cref="Load"/> repacks the weight matrices for the packed kernels (see <see cref="WeightTensor.Pack"/>).
    /// On by default; the environment variable BASALT_REPACK=0 turns it off, to measure the row kernels alone.
    /// </summary>
    public static bool RepackOnLoad { get; set; } = Environment.GetEnvironmentVariable("BASALT_REPACK") != "0";

    /// <summary>Bytes of native memory the repacked weights take (0 when nothing was repacked).</summary>
    public long PackedBytes => Weights.Matrices().Distinct().Sum(w => w.Packed?.PackedBytes ?? 0);

    /// <summary>Frees the repacked weights and unmaps the file.</summary>
    public void Dispose()
    {
        foreach (var w in Weights.Matrices()) w.ReleasePacked();
        File.Dispose();
    }
}
